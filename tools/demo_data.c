/* Builds the demo's illustrative England from the reference files and a seed, and loads it. */
#include "demo_data.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "csv.h"
#include "json_codec.h"
#include "projection.h"
#include "fundflow/limits.h"

static_assert(DEMO_BATCH_COMMANDS >= 1 && DEMO_BATCH_COMMANDS <= FF_BATCH_COMMANDS_MAX,
              "a demo batch must be one the ledger accepts");
static_assert(DEMO_CORE_SERVICES_TOTAL_PENCE >= DEMO_ICBS_MAX &&
                  DEMO_PRIMARY_MEDICAL_CARE_TOTAL_PENCE >= DEMO_ICBS_MAX,
              "every ICB must be able to receive at least a penny");

#define DEMO_NHSE_CODE "X24"
#define DEMO_NHSE_NAME "NHS England"
#define DEMO_PLACE_NAME_SUFFIX " place"

/* Illustrative weights: a population-like size per ICB, a per-stream need factor around 100,
 * and a size per place. Their ranges only shape how uneven the made-up split looks. */
#define DEMO_POPULATION_WEIGHT_MIN 600u
#define DEMO_POPULATION_WEIGHT_MAX 1400u
#define DEMO_NEED_FACTOR_MIN 90u
#define DEMO_NEED_FACTOR_MAX 110u
#define DEMO_PLACE_WEIGHT_MIN 500u
#define DEMO_PLACE_WEIGHT_MAX 1500u

/* Running cost allowances are drawn in whole thousands of pounds, which read as budgets do. */
#define DEMO_RUNNING_COST_STEP_PENCE 100000LL

#define DEMO_BASIS_POINTS_WHOLE 10000u

/* The longest reason a row check gives, before the file and line are put in front of it. */
#define DEMO_REASON_BYTES 256

typedef struct demo_org {
    char code[FF_ORG_CODE_BYTES_MAX + 1];
    char name[FF_ORG_NAME_BYTES_MAX + 1];
    char parent_code[FF_ORG_CODE_BYTES_MAX + 1];
} demo_org;

typedef struct demo_world {
    demo_org nhse;
    demo_org regions[DEMO_REGIONS_MAX];
    size_t region_count;
    demo_org icbs[DEMO_ICBS_MAX];
    size_t icb_count;
    demo_org places[DEMO_PLACES_MAX];
    size_t place_count;
} demo_world;

/* One command and everything it points at, so a whole plan is one allocation. Its strings point
 * into the world, which outlives the plan. */
typedef struct demo_command {
    Fundflow__V1__Command command;
    Fundflow__V1__Event event;
    union {
        Fundflow__V1__OrgRegistered org;
        Fundflow__V1__AllocationIssued allocation;
        Fundflow__V1__BudgetDelegated budget;
    } payload;
    bool registers_org;
    char idempotency_key[FF_IDEMPOTENCY_KEY_BYTES_MAX + 1];
} demo_command;

typedef struct demo_plan {
    demo_command *commands;
    size_t command_count;
    size_t command_capacity;
    const demo_org *funder;  /* NHS England, which issues every allocation */
    char reference[FF_REFERENCE_BYTES_MAX + 1];
} demo_plan;

/* splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014):
 * tiny, fast, and the same on every platform, which is all an illustrative split needs. */
typedef struct demo_random {
    uint64_t state;
} demo_random;

static uint64_t demo_random_next(demo_random *random) {
    random->state += UINT64_C(0x9E3779B97F4A7C15);
    uint64_t mixed = random->state;
    mixed = (mixed ^ (mixed >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    mixed = (mixed ^ (mixed >> 27)) * UINT64_C(0x94D049BB133111EB);
    return mixed ^ (mixed >> 31);
}

/* A number from low to high inclusive. The modulo's bias is below span / 2^64, far too small to
 * show in made-up figures. */
static uint32_t demo_random_between(demo_random *random, uint32_t low, uint32_t high) {
    assert(low <= high);
    uint64_t span = (uint64_t)high - low + 1;
    uint32_t drawn = low + (uint32_t)(demo_random_next(random) % span);
    assert(drawn >= low && drawn <= high);
    return drawn;
}

ff_err demo_amount_split(int64_t total_pence, const uint32_t *weights, size_t count,
                         int64_t *shares_pence) {
    assert(weights != NULL && shares_pence != NULL);
    assert(count <= SIZE_MAX / UINT32_MAX);
    if (count == 0 || total_pence < 0 || (uint64_t)total_pence < count) {
        return FF_ERR_AMOUNT_NOT_POSITIVE;
    }
    uint64_t weight_total = 0;
    for (size_t i = 0; i < count; i++) {
        /* A zero weight would ask for a zero share, which no command may carry. */
        if (weights[i] == 0) return FF_ERR_AMOUNT_NOT_POSITIVE;
        weight_total += weights[i];
    }
    /* The products reach total_pence times a 32-bit weight, past 64 bits, so they are taken in
     * 128 bits; each floor is at most total_pence, so it fits back into 64. */
    int64_t allotted_pence = 0;
    for (size_t i = 0; i < count; i++) {
        unsigned __int128 product = (unsigned __int128)(uint64_t)total_pence * weights[i];
        shares_pence[i] = (int64_t)(product / weight_total);
        allotted_pence += shares_pence[i];
    }
    int64_t left_over_pence = total_pence - allotted_pence;
    assert(left_over_pence >= 0 && (uint64_t)left_over_pence < count);
    for (size_t i = 0; i < (size_t)left_over_pence; i++) shares_pence[i] += 1;
    for (size_t i = 0; i < count; i++) {
        if (shares_pence[i] <= 0) return FF_ERR_AMOUNT_NOT_POSITIVE;
    }
    return FF_OK;
}

/* Reference files ------------------------------------------------------------------------- */

static ff_err demo_reason_set(char *reason, size_t reason_bytes, ff_err code, const char *format,
                              ...) __attribute__((format(printf, 4, 5)));

static ff_err demo_reason_set(char *reason, size_t reason_bytes, ff_err code, const char *format,
                              ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(reason, reason_bytes, format, arguments);
    va_end(arguments);
    return code;
}

static const demo_org *demo_org_find(const demo_org *orgs, size_t count, const char *code) {
    for (size_t i = 0; i < count; i++) {
        if (strcmp(orgs[i].code, code) == 0) return &orgs[i];
    }
    return NULL;
}

static bool demo_code_taken(const demo_world *world, const char *code) {
    return strcmp(world->nhse.code, code) == 0 ||
           demo_org_find(world->regions, world->region_count, code) != NULL ||
           demo_org_find(world->icbs, world->icb_count, code) != NULL ||
           demo_org_find(world->places, world->place_count, code) != NULL;
}

/* Checks a code read from column and copies it into target, which holds
 * FF_ORG_CODE_BYTES_MAX + 1 bytes. */
static ff_err demo_code_copy(char *target, const char *code, const char *column, char *reason,
                             size_t reason_bytes) {
    if (!command_org_code_valid(code)) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_CODE_INVALID,
                               "%s \"%.40s\" is not an organisation code (%d to %d upper-case "
                               "letters or digits)",
                               column, code, FF_ORG_CODE_BYTES_MIN, FF_ORG_CODE_BYTES_MAX);
    }
    size_t length = strlen(code);
    assert(length <= FF_ORG_CODE_BYTES_MAX);
    memcpy(target, code, length + 1);
    return FF_OK;
}

/* Checks a name as the ledger will, so a bad file is refused here, naming its line. */
static ff_err demo_name_check(const char *name, const char *column, char *reason,
                              size_t reason_bytes) {
    size_t length = strlen(name);
    if (length == 0) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_MISSING, "%s is empty", column);
    }
    if (length > FF_ORG_NAME_BYTES_MAX) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_TOO_LONG,
                               "%s is %zu bytes long; the limit is %d", column, length,
                               FF_ORG_NAME_BYTES_MAX);
    }
    if (!command_text_valid(name)) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_TEXT_INVALID,
                               "%s is not UTF-8 text without control characters", column);
    }
    return FF_OK;
}

/* Fills org's code and name, refusing a code some other row already holds. */
static ff_err demo_org_fill(const demo_world *world, demo_org *org, const char *code,
                            const char *code_column, const char *name, const char *name_column,
                            char *reason, size_t reason_bytes) {
    memset(org, 0, sizeof *org);
    ff_err err = demo_code_copy(org->code, code, code_column, reason, reason_bytes);
    if (err == FF_OK && demo_code_taken(world, org->code)) {
        err = demo_reason_set(reason, reason_bytes, FF_ERR_ORG_EXISTS,
                              "%s %s appears more than once", code_column, org->code);
    }
    if (err == FF_OK) err = demo_name_check(name, name_column, reason, reason_bytes);
    if (err != FF_OK) return err;
    memcpy(org->name, name, strlen(name) + 1);
    return FF_OK;
}

/* Columns: region_code, name. */
static ff_err demo_region_add(demo_world *world, const char *const *values, char *reason,
                              size_t reason_bytes) {
    if (world->region_count == DEMO_REGIONS_MAX) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_TOO_LONG,
                               "more than %d regions", DEMO_REGIONS_MAX);
    }
    demo_org *region = &world->regions[world->region_count];
    ff_err err = demo_org_fill(world, region, values[0], "region_code", values[1], "name", reason,
                               reason_bytes);
    if (err != FF_OK) return err;
    memcpy(region->parent_code, world->nhse.code, sizeof region->parent_code);
    world->region_count++;
    return FF_OK;
}

/* Columns: icb_code, name, region_code. */
static ff_err demo_icb_add(demo_world *world, const char *const *values, char *reason,
                           size_t reason_bytes) {
    if (world->icb_count == DEMO_ICBS_MAX) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_TOO_LONG, "more than %d ICBs",
                               DEMO_ICBS_MAX);
    }
    demo_org *icb = &world->icbs[world->icb_count];
    ff_err err = demo_org_fill(world, icb, values[0], "icb_code", values[1], "name", reason,
                               reason_bytes);
    if (err == FF_OK) err = demo_code_copy(icb->parent_code, values[2], "region_code", reason,
                                           reason_bytes);
    if (err == FF_OK &&
        demo_org_find(world->regions, world->region_count, icb->parent_code) == NULL) {
        err = demo_reason_set(reason, reason_bytes, FF_ERR_ORG_UNKNOWN,
                              "region_code %s is not in " DEMO_REGIONS_FILE, icb->parent_code);
    }
    if (err != FF_OK) return err;
    world->icb_count++;
    return FF_OK;
}

/* Names a place after the area it covers: "NHS Halton CCG" becomes "Halton place", since the
 * prefix and suffix named the old statutory body rather than the area. Without a former CCG
 * name, the sub-ICB location's own name is used. The result is cut short, at a whole UTF-8
 * character, to fit FF_ORG_NAME_BYTES_MAX. */
static void demo_place_name_make(const char *former_ccg_name, const char *sub_icb_name,
                                 char *name, size_t name_bytes) {
    static const char prefix[] = "NHS ", suffix[] = " CCG";
    bool from_former = former_ccg_name[0] != '\0';
    const char *base = from_former ? former_ccg_name : sub_icb_name;
    size_t length = strlen(base);
    if (from_former && length > sizeof prefix - 1 &&
        strncmp(base, prefix, sizeof prefix - 1) == 0) {
        base += sizeof prefix - 1;
        length -= sizeof prefix - 1;
    }
    if (from_former && length > sizeof suffix - 1 &&
        strcmp(base + length - (sizeof suffix - 1), suffix) == 0) {
        length -= sizeof suffix - 1;
    }
    size_t room = name_bytes - sizeof DEMO_PLACE_NAME_SUFFIX;
    if (length > room) {
        length = room;
        while (length > 0 && ((unsigned char)base[length] & 0xC0) == 0x80) length--;
    }
    memcpy(name, base, length);
    memcpy(name + length, DEMO_PLACE_NAME_SUFFIX, sizeof DEMO_PLACE_NAME_SUFFIX);
}

/* Columns: sub_icb_code, name, icb_code, former_ccg_name. */
static ff_err demo_place_add(demo_world *world, const char *const *values, char *reason,
                             size_t reason_bytes) {
    if (world->place_count == DEMO_PLACES_MAX) {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_TOO_LONG,
                               "more than %d sub-ICB locations", DEMO_PLACES_MAX);
    }
    if (values[1][0] == '\0' && values[3][0] == '\0') {
        return demo_reason_set(reason, reason_bytes, FF_ERR_FIELD_MISSING,
                               "both name and former_ccg_name are empty");
    }
    char name[FF_ORG_NAME_BYTES_MAX + 1];
    demo_place_name_make(values[3], values[1], name, sizeof name);
    demo_org *place = &world->places[world->place_count];
    ff_err err = demo_org_fill(world, place, values[0], "sub_icb_code", name,
                               "the place name made from name or former_ccg_name", reason,
                               reason_bytes);
    if (err == FF_OK) err = demo_code_copy(place->parent_code, values[2], "icb_code", reason,
                                           reason_bytes);
    if (err == FF_OK && demo_org_find(world->icbs, world->icb_count, place->parent_code) == NULL) {
        err = demo_reason_set(reason, reason_bytes, FF_ERR_ORG_UNKNOWN,
                              "icb_code %s is not in " DEMO_ICBS_FILE, place->parent_code);
    }
    if (err != FF_OK) return err;
    world->place_count++;
    return FF_OK;
}

#define DEMO_TABLE_COLUMNS_MAX 4

typedef ff_err (*demo_row_add)(demo_world *world, const char *const *values, char *reason,
                               size_t reason_bytes);

/* A reference file: its name, the columns the demo reads (found by header, in any order), and
 * what to do with each row. */
typedef struct demo_table {
    const char *file_name;
    const char *columns[DEMO_TABLE_COLUMNS_MAX];
    size_t column_count;
    demo_row_add row_add;
} demo_table;

/* In this order, so each file's parents are already known when it is read. */
static const demo_table demo_tables[] = {
    {DEMO_REGIONS_FILE, {"region_code", "name"}, 2, demo_region_add},
    {DEMO_ICBS_FILE, {"icb_code", "name", "region_code"}, 3, demo_icb_add},
    {DEMO_PLACES_FILE, {"sub_icb_code", "name", "icb_code", "former_ccg_name"}, 4,
     demo_place_add},
};

/* Reads the header and finds each wanted column in it. */
static ff_err demo_header_read(csv_reader *reader, const demo_table *table, size_t *indexes,
                               size_t *field_count_out, char *error, size_t error_bytes) {
    csv_record header;
    ff_err err = csv_reader_next(reader, &header);
    if (err == FF_ERR_EVENT_UNKNOWN) {
        snprintf(error, error_bytes, "%s: the file is empty; it needs a header line",
                 csv_reader_path(reader));
        return FF_ERR_TEXT_INVALID;
    }
    if (err != FF_OK) {
        snprintf(error, error_bytes, "%s", csv_reader_error(reader));
        return err;
    }
    for (size_t i = 0; i < table->column_count; i++) {
        int index = csv_record_column_find(&header, table->columns[i]);
        if (index < 0) {
            snprintf(error, error_bytes, "%s line %zu: the header has no column named %s",
                     csv_reader_path(reader), header.line, table->columns[i]);
            return FF_ERR_TEXT_INVALID;
        }
        indexes[i] = (size_t)index;
    }
    *field_count_out = header.field_count;
    return FF_OK;
}

/* Reads every row after the header, handing the wanted columns to the table's row_add. */
static ff_err demo_rows_read(csv_reader *reader, const demo_table *table, const size_t *indexes,
                             size_t field_count, demo_world *world, char *error,
                             size_t error_bytes) {
    for (;;) {
        csv_record record;
        ff_err err = csv_reader_next(reader, &record);
        if (err == FF_ERR_EVENT_UNKNOWN) return FF_OK;
        if (err != FF_OK) {
            snprintf(error, error_bytes, "%s", csv_reader_error(reader));
            return err;
        }
        if (record.field_count != field_count) {
            snprintf(error, error_bytes, "%s line %zu: %zu fields, where the header has %zu",
                     csv_reader_path(reader), record.line, record.field_count, field_count);
            return FF_ERR_TEXT_INVALID;
        }
        const char *values[DEMO_TABLE_COLUMNS_MAX];
        for (size_t i = 0; i < table->column_count; i++) values[i] = record.fields[indexes[i]];
        char reason[DEMO_REASON_BYTES];
        err = table->row_add(world, values, reason, sizeof reason);
        if (err != FF_OK) {
            snprintf(error, error_bytes, "%s line %zu: %s", csv_reader_path(reader),
                     record.line, reason);
            return err;
        }
    }
}

static ff_err demo_table_read(demo_world *world, const char *reference_dir,
                              const demo_table *table, char *error, size_t error_bytes) {
    assert(table->column_count <= DEMO_TABLE_COLUMNS_MAX);
    char path[4096];
    int length = snprintf(path, sizeof path, "%s/%s", reference_dir, table->file_name);
    if (length < 0 || (size_t)length >= sizeof path) {
        snprintf(error, error_bytes, "the reference directory's path is too long");
        return FF_ERR_FIELD_TOO_LONG;
    }
    csv_reader *reader = NULL;
    size_t indexes[DEMO_TABLE_COLUMNS_MAX] = {0}, field_count = 0;
    ff_err err = csv_reader_open(path, &reader, error, error_bytes);
    if (err != FF_OK) goto done;
    err = demo_header_read(reader, table, indexes, &field_count, error, error_bytes);
    if (err != FF_OK) goto done;
    err = demo_rows_read(reader, table, indexes, field_count, world, error, error_bytes);
done:
    csv_reader_close(reader);
    return err;
}

static ff_err demo_world_load(demo_world *world, const char *reference_dir, char *error,
                              size_t error_bytes) {
    memset(world, 0, sizeof *world);
    memcpy(world->nhse.code, DEMO_NHSE_CODE, sizeof DEMO_NHSE_CODE);
    memcpy(world->nhse.name, DEMO_NHSE_NAME, sizeof DEMO_NHSE_NAME);
    for (size_t i = 0; i < sizeof demo_tables / sizeof demo_tables[0]; i++) {
        ff_err err = demo_table_read(world, reference_dir, &demo_tables[i], error, error_bytes);
        if (err != FF_OK) return err;
    }
    if (world->icb_count == 0) {
        snprintf(error, error_bytes, "%s/%s holds no ICBs", reference_dir, DEMO_ICBS_FILE);
        return FF_ERR_TEXT_INVALID;
    }
    return FF_OK;
}

/* Commands -------------------------------------------------------------------------------- */

static demo_command *demo_command_add(demo_plan *plan, const char *key_format, ...)
    __attribute__((format(printf, 2, 3)));

static demo_command *demo_command_add(demo_plan *plan, const char *key_format, ...) {
    /* The plan's capacity is counted from the world before any command is added. */
    assert(plan->command_count < plan->command_capacity);
    demo_command *added = &plan->commands[plan->command_count++];
    memset(added, 0, sizeof *added);
    va_list arguments;
    va_start(arguments, key_format);
    int length = vsnprintf(added->idempotency_key, sizeof added->idempotency_key, key_format,
                           arguments);
    va_end(arguments);
    /* Codes are at most FF_ORG_CODE_BYTES_MAX bytes, so every demo key fits with room over. */
    assert(length > 0 && (size_t)length < sizeof added->idempotency_key);
    (void)length;
    fundflow__v1__command__init(&added->command);
    fundflow__v1__event__init(&added->event);
    added->command.idempotency_key = added->idempotency_key;
    added->command.effective_date = DEMO_EFFECTIVE_DATE;
    added->command.event = &added->event;
    return added;
}

static void demo_org_command_add(demo_plan *plan, const demo_org *org, Fundflow__V1__OrgKind kind) {
    demo_command *added = demo_command_add(plan, "demo-org-%s", org->code);
    Fundflow__V1__OrgRegistered *registered = &added->payload.org;
    fundflow__v1__org_registered__init(registered);
    registered->code = (char *)org->code;
    registered->name = (char *)org->name;
    registered->kind = kind;
    registered->parent_code = (char *)org->parent_code;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED;
    added->event.org_registered = registered;
    added->registers_org = true;
}

static void demo_allocation_command_add(demo_plan *plan, const char *stream_label,
                                        Fundflow__V1__Stream stream, const demo_org *icb,
                                        int64_t amount_pence) {
    assert(amount_pence > 0);
    demo_command *added = demo_command_add(plan, "demo-%u-%s-%s", DEMO_FINANCIAL_YEAR,
                                           stream_label, icb->code);
    Fundflow__V1__AllocationIssued *allocation = &added->payload.allocation;
    fundflow__v1__allocation_issued__init(allocation);
    allocation->funder_code = (char *)plan->funder->code;
    allocation->recipient_code = (char *)icb->code;
    allocation->stream = stream;
    allocation->financial_year = DEMO_FINANCIAL_YEAR;
    allocation->amount_pence = amount_pence;
    allocation->recurrent = true;
    allocation->reference = plan->reference;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    added->event.allocation_issued = allocation;
}

static void demo_budget_command_add(demo_plan *plan, const demo_org *icb, const demo_org *place,
                                    int64_t amount_pence) {
    assert(amount_pence > 0);
    assert(strcmp(place->parent_code, icb->code) == 0);
    demo_command *added = demo_command_add(plan, "demo-%u-core-%s-to-%s", DEMO_FINANCIAL_YEAR,
                                           icb->code, place->code);
    Fundflow__V1__BudgetDelegated *budget = &added->payload.budget;
    fundflow__v1__budget_delegated__init(budget);
    budget->from_code = (char *)icb->code;
    budget->to_code = (char *)place->code;
    budget->stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    budget->financial_year = DEMO_FINANCIAL_YEAR;
    budget->amount_pence = amount_pence;
    budget->reference = plan->reference;
    added->event.kind_case = FUNDFLOW__V1__EVENT__KIND_BUDGET_DELEGATED;
    added->event.budget_delegated = budget;
}

static void demo_orgs_plan(const demo_world *world, demo_plan *plan) {
    demo_org_command_add(plan, &world->nhse, FUNDFLOW__V1__ORG_KIND__NHSE);
    for (size_t i = 0; i < world->region_count; i++) {
        demo_org_command_add(plan, &world->regions[i], FUNDFLOW__V1__ORG_KIND__REGION);
    }
    for (size_t i = 0; i < world->icb_count; i++) {
        demo_org_command_add(plan, &world->icbs[i], FUNDFLOW__V1__ORG_KIND__ICB);
    }
    for (size_t i = 0; i < world->place_count; i++) {
        demo_org_command_add(plan, &world->places[i], FUNDFLOW__V1__ORG_KIND__PLACE);
    }
}

/* Weights for one stream: each ICB's population-like size times a need factor near 100. */
static void demo_stream_weights_draw(demo_random *random, const uint32_t *population,
                                     size_t count, uint32_t *weights) {
    for (size_t i = 0; i < count; i++) {
        weights[i] = population[i] *
                     demo_random_between(random, DEMO_NEED_FACTOR_MIN, DEMO_NEED_FACTOR_MAX);
    }
}

/* Plans the three allocations to every ICB, leaving each one's core services allocation in
 * core_pence for the onward budgets. */
static ff_err demo_allocations_plan(const demo_world *world, demo_random *random,
                                    demo_plan *plan, int64_t *core_pence) {
    uint32_t population[DEMO_ICBS_MAX] = {0}, weights[DEMO_ICBS_MAX] = {0};
    int64_t primary_pence[DEMO_ICBS_MAX] = {0};
    size_t count = world->icb_count;
    for (size_t i = 0; i < count; i++) {
        population[i] = demo_random_between(random, DEMO_POPULATION_WEIGHT_MIN,
                                            DEMO_POPULATION_WEIGHT_MAX);
    }
    demo_stream_weights_draw(random, population, count, weights);
    ff_err err = demo_amount_split(DEMO_CORE_SERVICES_TOTAL_PENCE, weights, count, core_pence);
    if (err != FF_OK) return err;
    demo_stream_weights_draw(random, population, count, weights);
    err = demo_amount_split(DEMO_PRIMARY_MEDICAL_CARE_TOTAL_PENCE, weights, count,
                            primary_pence);
    if (err != FF_OK) return err;
    for (size_t i = 0; i < count; i++) {
        demo_allocation_command_add(plan, "core", FUNDFLOW__V1__STREAM__CORE_SERVICES,
                                    &world->icbs[i], core_pence[i]);
    }
    for (size_t i = 0; i < count; i++) {
        demo_allocation_command_add(plan, "pmc", FUNDFLOW__V1__STREAM__PRIMARY_MEDICAL_CARE,
                                    &world->icbs[i], primary_pence[i]);
    }
    for (size_t i = 0; i < count; i++) {
        uint32_t thousands = demo_random_between(
            random, (uint32_t)(DEMO_RUNNING_COST_MIN_PENCE / DEMO_RUNNING_COST_STEP_PENCE),
            (uint32_t)(DEMO_RUNNING_COST_MAX_PENCE / DEMO_RUNNING_COST_STEP_PENCE));
        int64_t running_cost_pence = (int64_t)thousands * DEMO_RUNNING_COST_STEP_PENCE;
        assert(running_cost_pence >= DEMO_RUNNING_COST_MIN_PENCE &&
               running_cost_pence <= DEMO_RUNNING_COST_MAX_PENCE);
        demo_allocation_command_add(plan, "rca", FUNDFLOW__V1__STREAM__RUNNING_COST_ALLOWANCE,
                                    &world->icbs[i], running_cost_pence);
    }
    return FF_OK;
}

/* Plans one ICB's budgets to its places: a seeded share of its core services allocation, split
 * among them by seeded weights. An ICB without places passes nothing on. */
static ff_err demo_icb_budgets_plan(const demo_world *world, const demo_org *icb,
                                    int64_t core_pence, demo_random *random, demo_plan *plan) {
    const demo_org *places[DEMO_PLACES_MAX];
    uint32_t weights[DEMO_PLACES_MAX];
    int64_t shares_pence[DEMO_PLACES_MAX];
    size_t count = 0;
    for (size_t i = 0; i < world->place_count; i++) {
        if (strcmp(world->places[i].parent_code, icb->code) == 0) {
            places[count] = &world->places[i];
            weights[count++] = demo_random_between(random, DEMO_PLACE_WEIGHT_MIN,
                                                   DEMO_PLACE_WEIGHT_MAX);
        }
    }
    if (count == 0) return FF_OK;
    uint32_t share_basis_points = demo_random_between(random, DEMO_ONWARD_SHARE_BASIS_POINTS_MIN,
                                                      DEMO_ONWARD_SHARE_BASIS_POINTS_MAX);
    /* Taken in 128 bits so that no allocation, however large, can overflow the product. */
    int64_t onward_pence = (int64_t)((__int128)core_pence * share_basis_points /
                                     DEMO_BASIS_POINTS_WHOLE);
    assert(onward_pence <= core_pence);
    ff_err err = demo_amount_split(onward_pence, weights, count, shares_pence);
    if (err != FF_OK) return err;
    for (size_t i = 0; i < count; i++) {
        demo_budget_command_add(plan, icb, places[i], shares_pence[i]);
    }
    return FF_OK;
}

static ff_err demo_plan_build(const demo_world *world, uint64_t seed, demo_plan *plan,
                              char *error, size_t error_bytes) {
    size_t organisations = 1 + world->region_count + world->icb_count + world->place_count;
    plan->command_capacity = organisations + 3 * world->icb_count + world->place_count;
    plan->commands = calloc(plan->command_capacity, sizeof *plan->commands);
    if (plan->commands == NULL) {
        snprintf(error, error_bytes, "out of memory");
        return FF_ERR_NO_MEMORY;
    }
    snprintf(plan->reference, sizeof plan->reference, "illustrative demo figure, seed %llu",
             (unsigned long long)seed);
    plan->funder = &world->nhse;
    demo_random random = {seed};
    int64_t core_pence[DEMO_ICBS_MAX] = {0};
    demo_orgs_plan(world, plan);
    ff_err err = demo_allocations_plan(world, &random, plan, core_pence);
    for (size_t i = 0; err == FF_OK && i < world->icb_count; i++) {
        err = demo_icb_budgets_plan(world, &world->icbs[i], core_pence[i], &random, plan);
    }
    if (err != FF_OK) {
        snprintf(error, error_bytes, "cannot split the illustrative amounts: %s",
                 ff_strerror(err));
    }
    return err;
}

/* Submitting ------------------------------------------------------------------------------ */

static void demo_refusal_describe(FILE *out, const demo_command *command,
                                  const ledger_result *result) {
    if (out == NULL) return;
    const ff_failure *failure = &result->failure;
    fprintf(out, "refused %s: %s, field %s: %s\n", command->idempotency_key,
            ff_err_name(failure->code), failure->field ? failure->field : "(none)",
            failure->detail[0] != '\0' ? failure->detail : ff_strerror(failure->code));
}

static void demo_results_count(const demo_command *commands, const ledger_result *results,
                               size_t count, const demo_options *options,
                               demo_summary *summary) {
    for (size_t i = 0; i < count; i++) {
        if (results[i].failure.code != FF_OK) {
            summary->commands_refused++;
            demo_refusal_describe(options->refusals, &commands[i], &results[i]);
            continue;
        }
        if (results[i].idempotent_replay) {
            summary->events_already_present++;
        } else {
            summary->events_recorded++;
            if (commands[i].registers_org) summary->organisations_new++;
        }
        if (commands[i].registers_org) summary->organisations++;
    }
}

static ff_err demo_plan_submit(ff_ledger *ledger, const demo_plan *plan,
                               const demo_options *options, demo_summary *summary) {
    ledger_result *results = calloc(DEMO_BATCH_COMMANDS, sizeof *results);
    if (results == NULL) {
        snprintf(summary->error, sizeof summary->error, "out of memory");
        return FF_ERR_NO_MEMORY;
    }
    ff_err err = FF_OK;
    Fundflow__V1__Command *batch_commands[DEMO_BATCH_COMMANDS];
    for (size_t start = 0; start < plan->command_count; start += DEMO_BATCH_COMMANDS) {
        size_t left = plan->command_count - start;
        size_t count = left < DEMO_BATCH_COMMANDS ? left : DEMO_BATCH_COMMANDS;
        for (size_t i = 0; i < count; i++) batch_commands[i] = &plan->commands[start + i].command;
        ledger_batch batch = {.commands = batch_commands, .command_count = count, .linked = false,
                              .actor = DEMO_ACTOR, .recorded_at_us = DEMO_RECORDED_AT_US};
        err = ledger_batch_apply(ledger, &batch, results);
        if (err != FF_OK) {
            snprintf(summary->error, sizeof summary->error,
                     "commands %zu to %zu were not applied: %s: %s", start + 1, start + count,
                     ff_err_name(err), ff_strerror(err));
            goto done;
        }
        demo_results_count(&plan->commands[start], results, count, options, summary);
    }
    assert(summary->events_recorded + summary->events_already_present +
               summary->commands_refused ==
           plan->command_count);
done:
    free(results);
    return err;
}

ff_err demo_load(ff_ledger *ledger, const demo_options *options, demo_summary *summary) {
    assert(ledger != NULL && options != NULL && summary != NULL);
    assert(options->reference_dir != NULL);
    memset(summary, 0, sizeof *summary);
    demo_plan plan;
    memset(&plan, 0, sizeof plan);
    ff_err err = FF_ERR_NO_MEMORY;
    demo_world *world = calloc(1, sizeof *world);
    if (world == NULL) {
        snprintf(summary->error, sizeof summary->error, "out of memory");
        goto done;
    }
    err = demo_world_load(world, options->reference_dir, summary->error, sizeof summary->error);
    if (err != FF_OK) goto done;
    err = demo_plan_build(world, options->seed, &plan, summary->error, sizeof summary->error);
    if (err != FF_OK) goto done;
    summary->commands = plan.command_count;
    err = demo_plan_submit(ledger, &plan, options, summary);
    if (err != FF_OK) goto done;
    err = ledger_head_read(ledger, &summary->head);
    if (err != FF_OK) {
        snprintf(summary->error, sizeof summary->error, "cannot read the log's head: %s",
                 ff_strerror(err));
    }
done:
    free(plan.commands);
    free(world);
    return err;
}

/* Writes each planned command as a line of JSON. */
static ff_err demo_plan_ndjson_write(const demo_plan *plan, FILE *out, demo_summary *summary) {
    for (size_t i = 0; i < plan->command_count; i++) {
        char *text = NULL;
        size_t length = 0;
        ff_err err = json_codec_encode(&plan->commands[i].command.base, &text, &length);
        if (err != FF_OK) {
            snprintf(summary->error, sizeof summary->error, "cannot encode command %s: %s",
                     plan->commands[i].idempotency_key, ff_strerror(err));
            return err;
        }
        bool written = fwrite(text, 1, length, out) == length && fputc('\n', out) != EOF;
        free(text);
        if (!written) {
            snprintf(summary->error, sizeof summary->error, "cannot write the commands: %s",
                     strerror(errno));
            return FF_ERR_IO;
        }
        summary->commands++;
    }
    assert(summary->commands == plan->command_count);
    return FF_OK;
}

ff_err demo_ndjson_write(const demo_options *options, FILE *out, demo_summary *summary) {
    assert(options != NULL && out != NULL && summary != NULL);
    assert(options->reference_dir != NULL);
    memset(summary, 0, sizeof *summary);
    demo_plan plan;
    memset(&plan, 0, sizeof plan);
    ff_err err = FF_ERR_NO_MEMORY;
    demo_world *world = calloc(1, sizeof *world);
    if (world == NULL) {
        snprintf(summary->error, sizeof summary->error, "out of memory");
        goto done;
    }
    err = demo_world_load(world, options->reference_dir, summary->error, sizeof summary->error);
    if (err != FF_OK) goto done;
    err = demo_plan_build(world, options->seed, &plan, summary->error, sizeof summary->error);
    if (err != FF_OK) goto done;
    err = demo_plan_ndjson_write(&plan, out, summary);
done:
    free(plan.commands);
    free(world);
    return err;
}

ff_err demo_presence_read(ff_ledger *ledger, bool *present_out) {
    assert(ledger != NULL && present_out != NULL);
    *present_out = false;
    ff_store *store = ledger_store(ledger);
    MDB_txn *txn = NULL;
    ff_err err = store_txn_begin(store, NULL, MDB_RDONLY, &txn);
    if (err != FF_OK) return err;
    idempotency_record record;
    err = projection_idempotency_read(txn, store, "demo-org-" DEMO_NHSE_CODE, &record);
    mdb_txn_abort(txn);
    if (err == FF_ERR_EVENT_UNKNOWN) return FF_OK;
    if (err == FF_OK) *present_out = true;
    return err;
}
