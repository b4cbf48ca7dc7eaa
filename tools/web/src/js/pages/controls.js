// Form pieces the pages share: a labelled select or input in NHS markup, and a form whose
// submit moves to a new route.
import { h } from '../dom.js';

export function selectField(id, label, options, selected, hint) {
  return h('div', { class: 'nhsuk-form-group ff-control' },
    h('label', { class: 'nhsuk-label', for: id }, label),
    hint ? h('div', { class: 'nhsuk-hint', id: `${id}-hint` }, hint) : null,
    h('select', { class: 'nhsuk-select', id, name: id, 'aria-describedby': hint ? `${id}-hint` : null },
      options.map(([value, text]) => h('option', { value, selected: value === selected }, text))));
}

export function inputField(id, label, value, attributes = {}, hint) {
  return h('div', { class: 'nhsuk-form-group ff-control' },
    h('label', { class: 'nhsuk-label', for: id }, label),
    hint ? h('div', { class: 'nhsuk-hint', id: `${id}-hint` }, hint) : null,
    h('input', { class: 'nhsuk-input nhsuk-input--width-10', id, name: id, value: value || '', 'aria-describedby': hint ? `${id}-hint` : null, ...attributes }));
}

// A form of fields and a button; on submit, onSubmit(values by field id).
export function pageForm(id, fields, buttonText, onSubmit) {
  const form = h('form', { class: 'ff-controls', id, novalidate: true },
    fields, h('div', { class: 'ff-control ff-control--button' }, h('button', { class: 'nhsuk-button', type: 'submit' }, buttonText)));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const values = {};
    for (const element of form.elements) if (element.id) values[element.id] = element.type === 'checkbox' ? element.checked : element.value;
    onSubmit(values);
  });
  return form;
}
