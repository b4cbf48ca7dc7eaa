/* Forms a rollup's group as at a date from the effective-dated org links: shared by GetPosition
 * and GetOutturn so that a rollup means the same organisations in both (see query_group.h). */
#include "query_group.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "projection_link.h"
#include "projection_org.h"
#include "query_read.h"
#include "fundflow/limits.h"

bool query_codes_include(char *const *codes, size_t count, const char *code) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(codes[i], code) == 0) return true;
    }
    return false;
}

bool query_group_includes(query_group group, const char *code) {
    return query_codes_include(*group.codes, *group.n_codes, code);
}

static ff_err query_group_add(query_group group, const char *code) {
    if (query_group_includes(group, code)) return FF_OK;
    char **grown = realloc(*group.codes, (*group.n_codes + 1) * sizeof *grown);
    if (grown == NULL) return FF_ERR_NO_MEMORY;
    *group.codes = grown;
    grown[*group.n_codes] = strdup(code);
    if (grown[*group.n_codes] == NULL) return FF_ERR_NO_MEMORY;
    (*group.n_codes)++;
    return FF_OK;
}

/* Reads into parent (FF_ORG_CODE_BYTES_MAX + 1 bytes) the code of the organisation code sat
 * under on date (today if 0); empty if none then, or if it was not yet registered. */
static ff_err query_parent_at(store_txn *txn, ff_store *store, const char *code, uint32_t date,
                              char *parent) {
    parent[0] = '\0';
    if (date == 0) {
        Fundflow__V1__OrgRecord *org = NULL;
        ff_err err = projection_org_read(txn, store, code, &org);
        if (err == FF_ERR_ORG_UNKNOWN) return FF_OK;
        if (err != FF_OK) return err;
        assert(strlen(org->parent_code) <= FF_ORG_CODE_BYTES_MAX);
        strcpy(parent, org->parent_code);
        fundflow__v1__org_record__free_unpacked(org, NULL);
        return FF_OK;
    }
    Fundflow__V1__OrgLinkRecord *links = NULL;
    ff_err err = projection_org_links_at(txn, store, code, date, &links);
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    if (err != FF_OK) return err;
    assert(strlen(links->parent_code) <= FF_ORG_CODE_BYTES_MAX);
    strcpy(parent, links->parent_code);
    fundflow__v1__org_link_record__free_unpacked(links, NULL);
    return FF_OK;
}

/* Finding the organisations under an ICB (its places) or a region (its ICBs and joint
 * committees, and the ICBs' places), one organisation at a time. */
typedef struct query_under_walk {
    store_txn *txn;
    ff_store *store;
    const char *root;
    bool region; /* the root is a region, not an ICB */
    uint32_t date;
    query_group group;
} query_under_walk;

/* Whether org sat under the walk's root on its date: for an ICB, a place whose parent it was;
 * for a region, an organisation whose parent it was, or a place whose ICB's parent it was. */
static ff_err query_under_root(const query_under_walk *walk, const Fundflow__V1__OrgRecord *org,
                               bool *under_out) {
    char parent[FF_ORG_CODE_BYTES_MAX + 1], grandparent[FF_ORG_CODE_BYTES_MAX + 1];
    bool place = org->kind == FUNDFLOW__V1__ORG_KIND__PLACE;
    *under_out = false;
    if (!walk->region && !place) return FF_OK;
    ff_err err = query_parent_at(walk->txn, walk->store, org->code, walk->date, parent);
    if (err != FF_OK || parent[0] == '\0') return err;
    *under_out = strcmp(parent, walk->root) == 0;
    if (*under_out || !walk->region || !place) return FF_OK;
    err = query_parent_at(walk->txn, walk->store, parent, walk->date, grandparent);
    *under_out = err == FF_OK && strcmp(grandparent, walk->root) == 0;
    return err;
}

static ff_err query_under_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)stop;
    const query_under_walk *walk = argument;
    Fundflow__V1__OrgRecord *org = fundflow__v1__org_record__unpack(NULL, value.bytes, value.data);
    if (org == NULL) return FF_ERR_STORAGE;
    assert(query_key_is(key, org->code));
    bool under = false;
    ff_err err = query_under_root(walk, org, &under);
    if (err == FF_OK && under) err = query_group_add(walk->group, org->code);
    fundflow__v1__org_record__free_unpacked(org, NULL);
    return err;
}

/* A collaborative's members on date (its record's members if 0). */
static ff_err query_group_members(store_txn *txn, ff_store *store,
                                  const Fundflow__V1__OrgRecord *org, uint32_t date,
                                  query_group group) {
    ff_err err = FF_OK;
    if (date == 0) {
        for (size_t i = 0; err == FF_OK && i < org->n_member_codes; i++) {
            err = query_group_add(group, org->member_codes[i]);
        }
        return err;
    }
    Fundflow__V1__OrgLinkRecord *links = NULL;
    err = projection_org_links_at(txn, store, org->code, date, &links);
    /* A collaborative registered after the date had no members then. */
    if (err == FF_ERR_NOT_FOUND) return FF_OK;
    for (size_t i = 0; err == FF_OK && i < links->n_member_codes; i++) {
        err = query_group_add(group, links->member_codes[i]);
    }
    if (links) fundflow__v1__org_link_record__free_unpacked(links, NULL);
    return err;
}

ff_err query_group_form(store_txn *txn, ff_store *store, const Fundflow__V1__OrgRecord *org,
                        bool rollup, uint32_t date, query_group group) {
    assert(group.codes != NULL && group.n_codes != NULL);
    ff_err err = query_group_add(group, org->code);
    if (err != FF_OK || !rollup) return err;
    if (org->kind == FUNDFLOW__V1__ORG_KIND__ICB || org->kind == FUNDFLOW__V1__ORG_KIND__REGION) {
        query_under_walk walk = {txn, store, org->code, org->kind == FUNDFLOW__V1__ORG_KIND__REGION,
                                 date, group};
        return store_each(txn, store, STORE_TABLE_ORGS, QUERY_EVERY_KEY, query_under_row, &walk);
    }
    if (org->kind != FUNDFLOW__V1__ORG_KIND__PROVIDER_COLLABORATIVE) return FF_OK;
    return query_group_members(txn, store, org, date, group);
}
