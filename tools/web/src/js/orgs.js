// Organisations by code, read once per page view through ListOrgs (every page of it), for names
// and kinds; and the enum names the API uses for streams and kinds, in words.
import { callAll } from './api.js';

export const STREAMS = [
  ['CORE_SERVICES', 'Core services'],
  ['PRIMARY_MEDICAL_CARE', 'Primary medical care'],
  ['SPECIALISED', 'Specialised'],
  ['POD', 'Pharmacy, optometry and dental'],
  ['RUNNING_COST_ALLOWANCE', 'Running cost allowance'],
  ['SERVICE_DEVELOPMENT_FUNDING', 'Service development funding'],
  ['ELECTIVE_RECOVERY_FUND', 'Elective recovery fund'],
  ['CAPITAL', 'Capital'],
  ['BETTER_CARE_FUND', 'Better care fund'],
];

export function streamLabel(name) {
  const found = STREAMS.find(([value]) => value === name);
  return found ? found[1] : name || 'Every stream';
}

const KIND_LABELS = {
  NHSE: 'NHS England', REGION: 'Region', ICB: 'ICB', PLACE: 'Place (sub-ICB location)', TRUST: 'NHS trust',
  PRIMARY_CARE: 'Primary care', INDEPENDENT_PROVIDER: 'Independent provider', LOCAL_AUTHORITY: 'Local authority',
  PROVIDER_COLLABORATIVE: 'Provider collaborative', JOINT_COMMITTEE: 'Joint committee',
};

export function kindLabel(kind) {
  return KIND_LABELS[kind] || enumWords(kind);
}

export function enumWords(name) {
  if (!name) return '';
  const text = String(name).toLowerCase().replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

let cache = null;

// code -> OrgRecord for every organisation the asker may list.
export async function orgsByCode() {
  if (!cache) {
    cache = callAll('ListOrgs', { page_size: 500 }, 'orgs')
      .then((orgs) => new Map(orgs.map((org) => [org.code, org])))
      .catch((error) => { cache = null; throw error; });
  }
  return cache;
}

export function orgName(orgs, code) {
  const org = orgs.get(code);
  return org ? org.name : code;
}
