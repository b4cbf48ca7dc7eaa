/* The read RPC that maps funding flows (GetFundingFlows): a breadth-first walk of who passed
 * money to whom in a financial year, from one organisation or from NHS England; now from the
 * flows table, or as at an effective date from each payer's history (query_flows_dated.c).
 *
 * For a scoped principal the root must be in scope, and an empty root means the scope's own
 * organisation rather than NHS England. The walk shows what covered organisations passed on, to
 * whomever, but does not follow money onwards out of an organisation the scope does not cover. */
#include "query.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "projection.h"
#include "query_flows_dated.h"
#include "query_read.h"
#include "fundflow/calendar.h"
#include "fundflow/limits.h"

/* A flows key: year (2) ++ from (12, padded) ++ to (12, padded) ++ stream (1). */
#define QUERY_FLOW_KEY_BYTES (2 + 2 * FF_ORG_CODE_BYTES_MAX + 1)

typedef struct query_flow_walk {
    const Fundflow__V1__GetFundingFlowsRequest *request;
    const char *root; /* empty: every organisation of kind NHSE */
    Fundflow__V1__GetFundingFlowsResponse *response;
    char visited[FF_FLOWS_MAX + 1][FF_ORG_CODE_BYTES_MAX + 1];
    uint32_t visited_depth[FF_FLOWS_MAX + 1];
    size_t visited_count;
    /* The organisation whose flows are being read, and the depth its recipients sit at. */
    const char *from;
    uint32_t depth;
} query_flow_walk;

static bool query_flow_visit(query_flow_walk *walk, const char *code, uint32_t depth) {
    assert(strlen(code) <= FF_ORG_CODE_BYTES_MAX);
    for (size_t i = 0; i < walk->visited_count; i++) {
        if (strcmp(walk->visited[i], code) == 0) return false;
    }
    if (walk->visited_count > FF_FLOWS_MAX) return false;
    strcpy(walk->visited[walk->visited_count], code);
    walk->visited_depth[walk->visited_count++] = depth;
    return true;
}

static ff_err query_flow_edge_add(query_flow_walk *walk, const char *to, int stream,
                                  int64_t amount) {
    Fundflow__V1__GetFundingFlowsResponse *response = walk->response;
    assert(response->n_flows <= FF_FLOWS_MAX);
    if (response->n_flows == FF_FLOWS_MAX) {
        response->truncated = true;
        return FF_OK;
    }
    Fundflow__V1__FundingFlow *flow = malloc(sizeof *flow);
    if (flow == NULL) return FF_ERR_NO_MEMORY;
    fundflow__v1__funding_flow__init(flow);
    flow->from_code = strdup(walk->from);
    flow->to_code = strdup(to);
    flow->stream = (Fundflow__V1__Stream)stream;
    flow->amount_pence = amount;
    flow->depth = walk->depth;
    response->flows[response->n_flows++] = flow;
    return flow->from_code && flow->to_code ? FF_OK : FF_ERR_NO_MEMORY;
}

/* Adds one non-zero flow out of the current organisation, and queues its recipient. */
static ff_err query_flow_row(void *argument, store_slice key, store_slice value, bool *stop) {
    (void)stop;
    query_flow_walk *walk = argument;
    /* Every flows key has the same length: the projection pads the codes to it. */
    assert(key.bytes == QUERY_FLOW_KEY_BYTES);
    const uint8_t *bytes = key.data;
    int stream = bytes[QUERY_FLOW_KEY_BYTES - 1];
    int64_t amount = 0;
    if (value.bytes == sizeof amount) memcpy(&amount, value.data, sizeof amount);
    if (amount == 0 || (walk->request->stream != 0 && (int)walk->request->stream != stream)) {
        return FF_OK;
    }
    char to[FF_ORG_CODE_BYTES_MAX + 1];
    projection_code_unpad(bytes + 2 + FF_ORG_CODE_BYTES_MAX, to);
    ff_err err = query_flow_edge_add(walk, to, stream, amount);
    query_flow_visit(walk, to, walk->depth);
    return err;
}

/* As query_flows_from, as at the request's as_at_date: the flows summed from the payer's
 * history (query_flows_dated.c) rather than read from the flows table. */
static ff_err query_flows_from_dated(store_txn *txn, ff_store *store, query_flow_walk *walk) {
    query_flow_sums sums;
    ff_err err = query_flows_dated_read(txn, store, walk->from, walk->request->financial_year,
                                        walk->request->as_at_date, &sums);
    for (size_t i = 0; err == FF_OK && i < sums.count; i++) {
        const query_flow_sum *sum = &sums.items[i];
        if (sum->amount_pence == 0 ||
            (walk->request->stream != 0 && (uint32_t)walk->request->stream != sum->stream)) {
            continue;
        }
        err = query_flow_edge_add(walk, sum->to, (int)sum->stream, sum->amount_pence);
        query_flow_visit(walk, sum->to, walk->depth);
    }
    query_flow_sums_free(&sums);
    return err;
}

/* Adds every non-zero flow out of one organisation, and queues the recipients. */
static ff_err query_flows_from(store_txn *txn, ff_store *store, query_flow_walk *walk,
                               const char *from, uint32_t depth) {
    walk->from = from;
    walk->depth = depth;
    if (walk->request->as_at_date != 0) return query_flows_from_dated(txn, store, walk);
    uint8_t prefix[2 + FF_ORG_CODE_BYTES_MAX];
    uint32_t year = walk->request->financial_year;
    prefix[0] = (uint8_t)(year >> 8), prefix[1] = (uint8_t)year;
    memset(prefix + 2, ' ', FF_ORG_CODE_BYTES_MAX);
    memcpy(prefix + 2, from, strlen(from));
    return store_each(txn, store, STORE_TABLE_FLOWS, STORE_SLICE(prefix, sizeof prefix),
                      query_flow_row, walk);
}

static ff_err query_flow_root_row(void *argument, store_slice key, store_slice value,
                                  bool *stop) {
    (void)key, (void)stop;
    query_flow_walk *walk = argument;
    Fundflow__V1__OrgRecord *org = fundflow__v1__org_record__unpack(NULL, value.bytes, value.data);
    /* An unreadable organisation is left out of the roots rather than failing the map. */
    if (org && org->kind == FUNDFLOW__V1__ORG_KIND__NHSE) query_flow_visit(walk, org->code, 0);
    if (org) fundflow__v1__org_record__free_unpacked(org, NULL);
    return FF_OK;
}

/* Seeds the walk with the root, or with every organisation of kind NHSE. */
static ff_err query_flow_roots(store_txn *txn, ff_store *store, query_flow_walk *walk) {
    if (walk->root[0]) {
        Fundflow__V1__OrgRecord *root = NULL;
        ff_err err = projection_org_read(txn, store, walk->root, &root);
        if (err != FF_OK) return err;
        fundflow__v1__org_record__free_unpacked(root, NULL);
        query_flow_visit(walk, walk->root, 0);
        return FF_OK;
    }
    return store_each(txn, store, STORE_TABLE_ORGS, QUERY_EVERY_KEY, query_flow_root_row,
                      walk);
}

/* Whether the walk goes on from the i-th organisation it reached: within the depth asked for,
 * and, past the root, covered by the asker's scope. */
static ff_err query_flow_expands(const query_read *read, const query_flow_walk *walk, size_t i,
                                 uint32_t depth_max, bool *expands_out) {
    *expands_out = walk->visited_depth[i] < depth_max;
    if (!*expands_out || walk->visited_depth[i] == 0) return FF_OK;
    return query_org_covered(read, walk->visited[i], expands_out);
}

/* The root to walk from: the one asked for, or for a scoped principal its scope; refused when
 * it is not registered (naming the code) or the scope does not cover it. */
static ff_err query_flow_root_pick(const query_read *read,
                                   const Fundflow__V1__GetFundingFlowsRequest *get,
                                   const char **root_out) {
    *root_out = get->root_code;
    if (!get->root_code[0] && !access_is_national(read->who)) *root_out = read->who->scope;
    return (*root_out)[0] ? query_org_named(read, *root_out, "root_code") : FF_OK;
}

static ff_err query_flows_fill(const query_read *read, const void *request,
                               ProtobufCMessage **response) {
    const Fundflow__V1__GetFundingFlowsRequest *get = request;
    uint32_t depth_max = get->depth == 0 ? FF_FLOW_DEPTH_DEFAULT : get->depth;
    const char *root = NULL;
    ff_err err = query_flow_root_pick(read, get, &root);
    if (err != FF_OK) return err;
    query_flow_walk *walk = calloc(1, sizeof *walk);
    if (walk == NULL) return FF_ERR_NO_MEMORY;
    walk->request = get;
    walk->root = root;
    walk->response = (Fundflow__V1__GetFundingFlowsResponse *)*response;
    walk->response->flows = calloc(FF_FLOWS_MAX, sizeof *walk->response->flows);
    err = walk->response->flows ? query_flow_roots(read->txn, read->store, walk)
                                : FF_ERR_NO_MEMORY;
    /* Breadth first: the visited list grows as the walk finds recipients. */
    for (size_t i = 0; err == FF_OK && i < walk->visited_count; i++) {
        bool expands = false;
        err = query_flow_expands(read, walk, i, depth_max, &expands);
        if (err != FF_OK || !expands) continue;
        err = query_flows_from(read->txn, read->store, walk, walk->visited[i],
                               walk->visited_depth[i] + 1);
    }
    free(walk);
    if (err == FF_ERR_ORG_UNKNOWN) {
        return failure_set(read->failure, err, "root_code", "cannot walk the funding flows");
    }
    return err;
}

ff_err query_funding_flows(ff_ledger *ledger, const access_principal *who,
                           const ProtobufCMessage *request, ProtobufCMessage **response_out,
                           ff_failure *failure) {
    assert(request->descriptor == &fundflow__v1__get_funding_flows_request__descriptor);
    const Fundflow__V1__GetFundingFlowsRequest *get =
        (const Fundflow__V1__GetFundingFlowsRequest *)request;
    ff_err err = command_year_check(get->financial_year, failure);
    if (err == FF_OK) err = command_org_code_check(get->root_code, "root_code", false, failure);
    if (err == FF_OK && get->depth > FF_FLOW_DEPTH_MAX) {
        err = failure_set(failure, FF_ERR_FIELD_TOO_LONG, "depth",
                          "depth %u is deeper than the limit of %d", get->depth,
                          FF_FLOW_DEPTH_MAX);
    }
    if (err == FF_OK && get->as_at_date != 0 && !calendar_date_valid(get->as_at_date)) {
        err = failure_set(failure, FF_ERR_DATE_INVALID, "as_at_date",
                          "as_at_date %u is not a real date in YYYYMMDD form", get->as_at_date);
    }
    if (err != FF_OK) return err;
    return query_read_run_as(ledger, who, &fundflow__v1__get_funding_flows_response__descriptor,
                             query_flows_fill, get, "cannot walk the funding flows",
                             response_out, failure);
}
