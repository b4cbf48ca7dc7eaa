/* A provider's view of its position: every contract on which it is the provider, across all its
 * commissioners and (with the stream unspecified) all streams, with a total per commissioner
 * and overall. A scoped asker sees only the contracts its scope covers. */
#include "query_position_parts.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "projection.h"
#include "fundflow/limits.h"
#include "fundflow/money.h"

/* A line's money, in one order, for adding lines up. */
#define QUERY_LINE_FIGURES 6
static void query_line_figures(Fundflow__V1__ProviderContractLine *line,
                               int64_t *figures[QUERY_LINE_FIGURES]) {
    int64_t *const all[QUERY_LINE_FIGURES] = {&line->value_pence,    &line->paid_pence,
                                              &line->withheld_pence, &line->earned_pence,
                                              &line->outstanding_pence, &line->released_pence};
    memcpy(figures, all, sizeof all);
}

static ff_err query_line_add(Fundflow__V1__ProviderContractLine *sum,
                             Fundflow__V1__ProviderContractLine *line) {
    int64_t *sums[QUERY_LINE_FIGURES], *figures[QUERY_LINE_FIGURES];
    query_line_figures(sum, sums);
    query_line_figures(line, figures);
    ff_err err = FF_OK;
    for (size_t i = 0; err == FF_OK && i < QUERY_LINE_FIGURES; i++) {
        err = money_add(*sums[i], *figures[i], sums[i]);
    }
    return err;
}

/* A new line for a commissioner (and contract, or "" for a total); NULL if memory runs out. */
static Fundflow__V1__ProviderContractLine *query_line_new(const char *commissioner,
                                                          const char *contract_id,
                                                          Fundflow__V1__Stream stream) {
    Fundflow__V1__ProviderContractLine *line = malloc(sizeof *line);
    if (line == NULL) return NULL;
    fundflow__v1__provider_contract_line__init(line);
    line->commissioner_code = strdup(commissioner);
    line->contract_id = strdup(contract_id);
    line->stream = stream;
    if (line->commissioner_code && line->contract_id) return line;
    fundflow__v1__provider_contract_line__free_unpacked(line, NULL);
    return NULL;
}

/* Appends a line to a list, growing it; frees the line if memory runs out. */
static ff_err query_line_append(Fundflow__V1__ProviderContractLine ***lines, size_t *count,
                                Fundflow__V1__ProviderContractLine *line) {
    Fundflow__V1__ProviderContractLine **grown = realloc(*lines, (*count + 1) * sizeof *grown);
    if (grown == NULL) {
        fundflow__v1__provider_contract_line__free_unpacked(line, NULL);
        return FF_ERR_NO_MEMORY;
    }
    grown[(*count)++] = line;
    *lines = grown;
    return FF_OK;
}

/* The line of one contract from its figures: value = paid + earned + outstanding. */
static ff_err query_line_of(const Fundflow__V1__ContractRecord *contract,
                            const query_contract_figures *figures,
                            Fundflow__V1__ProviderContractLine **line_out) {
    Fundflow__V1__ProviderContractLine *line =
        query_line_new(contract->commissioner_code, contract->contract_id, contract->stream);
    if (line == NULL) return FF_ERR_NO_MEMORY;
    line->paid_pence = figures->paid_pence;
    line->withheld_pence = figures->withheld_pence;
    line->earned_pence = figures->earned_pence;
    line->released_pence = figures->released_pence;
    ff_err err = money_add(figures->unpaid_pence, figures->withheld_pence,
                           &line->outstanding_pence);
    if (err == FF_OK) err = query_contract_figures_value(figures, &line->value_pence);
    if (err != FF_OK) {
        fundflow__v1__provider_contract_line__free_unpacked(line, NULL);
        return err;
    }
    *line_out = line;
    return FF_OK;
}

/* Walking the provider's party_contracts rows for the position's year. */
typedef struct query_provider_walk {
    const query_read *read;
    Fundflow__V1__Position *position;
    size_t prefix_bytes;
} query_provider_walk;

static ff_err query_provider_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)value, (void)stop;
    const query_provider_walk *walk = argument;
    Fundflow__V1__Position *position = walk->position;
    char contract_id[FF_IDENTIFIER_BYTES_MAX + 1];
    size_t id_bytes = key.bytes - walk->prefix_bytes;
    if (id_bytes == 0 || id_bytes > FF_IDENTIFIER_BYTES_MAX) return FF_OK;
    memcpy(contract_id, (const uint8_t *)key.data + walk->prefix_bytes, id_bytes);
    contract_id[id_bytes] = '\0';
    Fundflow__V1__ContractRecord *contract = NULL;
    ff_err err = projection_contract_read(walk->read->txn, walk->read->store, contract_id,
                                          position->as_at_sequence, &contract);
    /* A contract agreed after the as-at sequence did not exist then. */
    if (err == FF_ERR_CONTRACT_UNKNOWN) return FF_OK;
    if (err != FF_OK) return err;
    bool listed = strcmp(contract->provider_code, position->org_code) == 0 &&
                  (position->stream == FUNDFLOW__V1__STREAM__STREAM_UNSPECIFIED ||
                   contract->stream == position->stream);
    if (listed) err = query_contract_in_scope(walk->read, contract, &listed);
    query_contract_figures figures;
    Fundflow__V1__ProviderContractLine *line = NULL;
    if (err == FF_OK && listed) {
        err = query_contract_figures_at(walk->read->txn, walk->read->store, contract,
                                        position->as_at_sequence, position->as_at_date,
                                        &figures);
        if (err == FF_OK) err = query_line_of(contract, &figures, &line);
        if (err == FF_OK) err = query_line_append(&position->contracts, &position->n_contracts, line);
    }
    fundflow__v1__contract_record__free_unpacked(contract, NULL);
    return err;
}

static int query_line_order(const void *a, const void *b) {
    const Fundflow__V1__ProviderContractLine *left = *(Fundflow__V1__ProviderContractLine *const *)a;
    const Fundflow__V1__ProviderContractLine *right =
        *(Fundflow__V1__ProviderContractLine *const *)b;
    int by_commissioner = strcmp(left->commissioner_code, right->commissioner_code);
    return by_commissioner != 0 ? by_commissioner
                                : strcmp(left->contract_id, right->contract_id);
}

/* The total per commissioner (lines are in commissioner order) and the overall total. */
static ff_err query_provider_totals(Fundflow__V1__Position *position) {
    position->contracts_total = query_line_new("", "", position->stream);
    if (position->contracts_total == NULL) return FF_ERR_NO_MEMORY;
    ff_err err = FF_OK;
    Fundflow__V1__ProviderContractLine *current = NULL;
    for (size_t i = 0; err == FF_OK && i < position->n_contracts; i++) {
        Fundflow__V1__ProviderContractLine *line = position->contracts[i];
        if (current == NULL || strcmp(current->commissioner_code, line->commissioner_code) != 0) {
            current = query_line_new(line->commissioner_code, "", position->stream);
            if (current == NULL) return FF_ERR_NO_MEMORY;
            err = query_line_append(&position->commissioner_totals,
                                    &position->n_commissioner_totals, current);
        }
        if (err == FF_OK) err = query_line_add(current, line);
        if (err == FF_OK) err = query_line_add(position->contracts_total, line);
    }
    return err;
}

ff_err query_provider_contracts_fill(const query_read *read, Fundflow__V1__Position *position) {
    assert(position->n_contracts == 0 && position->contracts_total == NULL);
    uint8_t prefix[FF_ORG_CODE_BYTES_MAX + 3];
    size_t code_bytes = strlen(position->org_code);
    assert(code_bytes <= FF_ORG_CODE_BYTES_MAX);
    uint32_t year = position->financial_year;
    memcpy(prefix, position->org_code, code_bytes);
    prefix[code_bytes] = 0;
    prefix[code_bytes + 1] = (uint8_t)(year >> 8), prefix[code_bytes + 2] = (uint8_t)year;
    query_provider_walk walk = {read, position, code_bytes + 3};
    ff_err err = store_each(read->txn, read->store, STORE_TABLE_PARTY_CONTRACTS,
                            STORE_SLICE(prefix, code_bytes + 3), query_provider_row, &walk);
    if (err != FF_OK) return err;
    if (position->n_contracts > 1) {
        qsort(position->contracts, position->n_contracts, sizeof *position->contracts,
              query_line_order);
    }
    return query_provider_totals(position);
}
