/* A benchmark of the core ledger without a network: commands per second and batch latency for
 * batch sizes 1, 100 and 1000, then the cost of verify and rebuild on the log it wrote. Given
 * --principal, the batches are applied as that principal, so the cost of the access checks can
 * be compared with the unrestricted path. Given --commands N --batch B, it instead applies
 * exactly N allocations in batches of B with no time limit, for a figure that repeats: run under
 * callgrind with --toggle-collect=bench_fixed_batch_apply, it counts only the applying. With
 * --payments, those N commands are payments on one contract of QUE's instead, which a principal
 * scoped to QUE may make: the access check then reads the contract the projection changes. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "access.h"
#include "ledger.h"
#include "store_anchor.h"
#include "verify.h"

/* Each setting runs until it has applied this many commands or this much time has passed. */
enum { BENCH_COMMANDS_PER_SETTING = 20000, BENCH_SECONDS_PER_SETTING = 10, BENCH_BATCHES_MAX = 20000 };
/* The fixed-count mode's bounds: enough for any run under valgrind, small enough for one batch's
 * arrays to be allocated at once. */
enum { BENCH_FIXED_COMMANDS_MAX = 100000000, BENCH_FIXED_BATCH_MAX = 100000 };

static double bench_now_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static int bench_compare_doubles(const void *left, const void *right) {
    double a = *(const double *)left, b = *(const double *)right;
    return (a > b) - (a < b);
}

/* The command of the world's setup that records event under key on 1 April 2024. */
static Fundflow__V1__Command *bench_setup_command(const char *key, Fundflow__V1__Event *event) {
    static Fundflow__V1__Command command;
    fundflow__v1__command__init(&command);
    command.idempotency_key = (char *)key;
    command.effective_date = 20240401;
    command.event = event;
    return &command;
}

static Fundflow__V1__Command *bench_org_command(const char *key, const char *code,
                                                Fundflow__V1__OrgKind kind, const char *parent) {
    static Fundflow__V1__Event event;
    static Fundflow__V1__OrgRegistered org;
    fundflow__v1__event__init(&event);
    fundflow__v1__org_registered__init(&org);
    org.code = (char *)code;
    org.name = (char *)code;
    org.kind = kind;
    org.parent_code = (char *)parent;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_ORG_REGISTERED;
    event.org_registered = &org;
    return bench_setup_command(key, &event);
}

static int bench_apply_one(ff_ledger *ledger, Fundflow__V1__Command *command) {
    ledger_result result;
    ledger_batch batch = {.commands = &command, .command_count = 1, .actor = "bench"};
    if (ledger_batch_apply(ledger, &batch, &result) != FF_OK) return -1;
    return result.failure.code == FF_OK || result.idempotent_replay ? 0 : -1;
}

/* NHS England's 2024/25 core services limit, as high as it goes, so no run exhausts it. */
static Fundflow__V1__Command *bench_limit_command(void) {
    static Fundflow__V1__Event event;
    static Fundflow__V1__RevenueLimitSet limit;
    fundflow__v1__event__init(&event);
    fundflow__v1__revenue_limit_set__init(&limit);
    limit.funder_code = (char *)"X24";
    limit.stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    limit.financial_year = 2024;
    limit.limit_pence = INT64_MAX;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_REVENUE_LIMIT_SET;
    event.revenue_limit_set = &limit;
    return bench_setup_command("bench-limit", &event);
}

/* The contract the payments mode pays on, and what QUE is given to commission it: £100,000,000,
 * far more than the callgrind run pays (20,000 payments of at most £10.99 each, in batches of
 * 1,000, come to under £220,000). A run that pays more is refused for overpayment and says so. */
#define BENCH_CONTRACT_ID "BENCH-C1"
#define BENCH_CONTRACT_PENCE INT64_C(10000000000)

/* Makes event an allocation from X24 to QUE in core services, 2024/25. */
static void bench_allocation_make(Fundflow__V1__Event *event,
                                  Fundflow__V1__AllocationIssued *allocation,
                                  int64_t amount_pence) {
    fundflow__v1__event__init(event);
    fundflow__v1__allocation_issued__init(allocation);
    allocation->funder_code = (char *)"X24";
    allocation->recipient_code = (char *)"QUE";
    allocation->stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    allocation->financial_year = 2024;
    allocation->amount_pence = amount_pence;
    event->kind_case = FUNDFLOW__V1__EVENT__KIND_ALLOCATION_ISSUED;
    event->allocation_issued = allocation;
}

/* QUE's allocation for the contract. */
static Fundflow__V1__Command *bench_allocation_command(void) {
    static Fundflow__V1__Event event;
    static Fundflow__V1__AllocationIssued allocation;
    bench_allocation_make(&event, &allocation, BENCH_CONTRACT_PENCE);
    return bench_setup_command("bench-contract-allocation", &event);
}

/* A block contract from QUE to the trust RGT for the whole allocation, with nothing withheld. */
static Fundflow__V1__Command *bench_contract_command(void) {
    static Fundflow__V1__Event event;
    static Fundflow__V1__ContractAgreed contract;
    fundflow__v1__event__init(&event);
    fundflow__v1__contract_agreed__init(&contract);
    contract.contract_id = (char *)BENCH_CONTRACT_ID;
    contract.commissioner_code = (char *)"QUE";
    contract.provider_code = (char *)"RGT";
    contract.type = FUNDFLOW__V1__CONTRACT_TYPE__BLOCK;
    contract.financial_year = 2024;
    contract.stream = FUNDFLOW__V1__STREAM__CORE_SERVICES;
    contract.annual_value_pence = BENCH_CONTRACT_PENCE;
    contract.service_category = FUNDFLOW__V1__SERVICE_CATEGORY__MENTAL_HEALTH;
    event.kind_case = FUNDFLOW__V1__EVENT__KIND_CONTRACT_AGREED;
    event.contract_agreed = &contract;
    return bench_setup_command("bench-contract", &event);
}

/* Whether the fixed-count mode pays on the contract rather than allocates. */
static bool bench_payments;

/* Registers NHS England (X24), its limit and one ICB (QUE) to allocate to; for the payments mode
 * also the trust RGT, QUE's allocation and its contract with RGT. */
static int bench_world_register(ff_ledger *ledger) {
    if (bench_apply_one(ledger, bench_org_command("bench-x24", "X24",
                                                  FUNDFLOW__V1__ORG_KIND__NHSE, "")) != 0 ||
        bench_apply_one(ledger, bench_limit_command()) != 0 ||
        bench_apply_one(ledger, bench_org_command("bench-que", "QUE",
                                                  FUNDFLOW__V1__ORG_KIND__ICB, "X24")) != 0) {
        return -1;
    }
    if (!bench_payments) return 0;
    if (bench_apply_one(ledger, bench_org_command("bench-rgt", "RGT",
                                                  FUNDFLOW__V1__ORG_KIND__TRUST, "QUE")) != 0 ||
        bench_apply_one(ledger, bench_allocation_command()) != 0) {
        return -1;
    }
    return bench_apply_one(ledger, bench_contract_command());
}

typedef struct bench_commands {
    Fundflow__V1__Command *commands;
    Fundflow__V1__Command **pointers;
    Fundflow__V1__Event *events;
    Fundflow__V1__AllocationIssued *allocations;
    Fundflow__V1__PaymentMade *payments; /* the payments mode's, else NULL */
    char (*keys)[32];
} bench_commands;

/* Makes command i of a set a payment on the contract, in M1, of 100 pence more than i. */
static void bench_payment_make(bench_commands *set, size_t i) {
    fundflow__v1__payment_made__init(&set->payments[i]);
    set->payments[i].contract_id = (char *)BENCH_CONTRACT_ID;
    set->payments[i].month = 1;
    set->payments[i].amount_pence = 100 + (int64_t)i;
    set->events[i].kind_case = FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE;
    set->events[i].payment_made = &set->payments[i];
}

static int bench_commands_make(bench_commands *set, size_t count, size_t setting, size_t batch) {
    for (size_t i = 0; i < count; i++) {
        fundflow__v1__command__init(&set->commands[i]);
        snprintf(set->keys[i], sizeof set->keys[i], "b%zu-%zu-%zu", setting, batch, i);
        bench_allocation_make(&set->events[i], &set->allocations[i], 100 + (int64_t)i);
        if (set->payments != NULL) bench_payment_make(set, i);
        set->commands[i].idempotency_key = set->keys[i];
        set->commands[i].effective_date = 20240401;
        set->commands[i].event = &set->events[i];
        set->pointers[i] = &set->commands[i];
    }
    return 0;
}

/* The principal the batches are applied as; NULL for none (the offline tools' path). */
static const access_principal *bench_principal;
/* Where the scratch directories are made. */
static const char *bench_parent;

static int bench_setting_run(ff_ledger *ledger, size_t batch_size, size_t setting) {
    bench_commands set = {
        .commands = calloc(batch_size, sizeof *set.commands),
        .pointers = calloc(batch_size, sizeof *set.pointers),
        .events = calloc(batch_size, sizeof *set.events),
        .allocations = calloc(batch_size, sizeof *set.allocations),
        .keys = calloc(batch_size, sizeof *set.keys)};
    ledger_result *results = calloc(batch_size, sizeof *results);
    double *latencies = calloc(BENCH_BATCHES_MAX, sizeof *latencies);
    if (!set.commands || !set.pointers || !set.events || !set.allocations || !set.keys ||
        !results || !latencies) {
        return -1;
    }
    size_t batches = 0, applied = 0;
    double started = bench_now_seconds();
    while (applied < BENCH_COMMANDS_PER_SETTING && batches < BENCH_BATCHES_MAX &&
           bench_now_seconds() - started < BENCH_SECONDS_PER_SETTING) {
        bench_commands_make(&set, batch_size, setting, batches);
        ledger_batch batch = {.commands = set.pointers, .command_count = batch_size,
                              .actor = "bench", .principal = bench_principal};
        double batch_started = bench_now_seconds();
        if (ledger_batch_apply(ledger, &batch, results) != FF_OK) return -1;
        latencies[batches++] = bench_now_seconds() - batch_started;
        applied += batch_size;
    }
    double elapsed = bench_now_seconds() - started;
    qsort(latencies, batches, sizeof *latencies, bench_compare_doubles);
    printf("%10zu %10zu %14.0f %10.2f %10.2f %10.2f\n", batch_size, applied,
           (double)applied / elapsed, latencies[batches / 2] * 1e3,
           latencies[(batches * 99) / 100] * 1e3, latencies[batches - 1] * 1e3);
    free(set.commands), free(set.pointers), free(set.events), free(set.allocations);
    free(set.keys), free(results), free(latencies);
    return 0;
}

static int bench_remove_entry(const char *path, const struct stat *status, int type,
                              struct FTW *walk) {
    (void)status, (void)type, (void)walk;
    return remove(path);
}

/* About the stored size of an allocation's log record (147 bytes of full log pages per event,
 * less LMDB's 18 bytes of node header, key and pointer). */
enum { BENCH_ANCHOR_RECORD_BYTES = 128 };

/* The anchor: the same count of raw LMDB appends of a log record's size, in the same batches, in
 * a fresh environment under parent, and what fraction of their rate the ledger reached. */
static int bench_anchor_run(const char *parent, size_t commands, size_t batch_size,
                            double ledger_per_second) {
    char directory[4096];
    snprintf(directory, sizeof directory, "%s/fundflow-anchor-XXXXXX", parent);
    if (mkdtemp(directory) == NULL) return -1;
    double seconds = 0;
    ff_err err = store_anchor_appends_run(directory, commands, batch_size,
                                          BENCH_ANCHOR_RECORD_BYTES, &seconds);
    nftw(directory, bench_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (err != FF_OK || seconds <= 0) return -1;
    double per_second = (double)commands / seconds;
    printf("%10zu %10s %10zu %12.3f %14.0f  raw LMDB appends of %d bytes; the ledger reached "
           "%.3f of them\n", batch_size, "", commands, seconds, per_second,
           BENCH_ANCHOR_RECORD_BYTES, ledger_per_second / per_second);
    return 0;
}

/* Applies one batch of the fixed-count mode. Kept out of line and doing nothing else, so that
 * callgrind's --toggle-collect=bench_fixed_batch_apply counts exactly the ledger's work for the
 * batch (checks, projections, hash chain and commit), and none of the benchmark's setup. */
ff_err bench_fixed_batch_apply(ff_ledger *ledger, const ledger_batch *batch,
                              ledger_result *results);
__attribute__((noinline)) ff_err bench_fixed_batch_apply(ff_ledger *ledger,
                                                         const ledger_batch *batch,
                                                         ledger_result *results) {
    return ledger_batch_apply(ledger, batch, results);
}

/* Applies exactly `commands` allocations in batches of `batch_size` (the last one shorter if it
 * does not divide), with no time limit, and prints the count, the seconds and the rate. The
 * allocations are the timed mode's: X24 to QUE, core services, 2024/25; or, with --payments,
 * payments on QUE's contract with RGT. */
static int bench_fixed_run(ff_ledger *ledger, size_t commands, size_t batch_size) {
    bench_commands set = {
        .commands = calloc(batch_size, sizeof *set.commands),
        .pointers = calloc(batch_size, sizeof *set.pointers),
        .events = calloc(batch_size, sizeof *set.events),
        .allocations = calloc(batch_size, sizeof *set.allocations),
        .payments = bench_payments ? calloc(batch_size, sizeof *set.payments) : NULL,
        .keys = calloc(batch_size, sizeof *set.keys)};
    ledger_result *results = calloc(batch_size, sizeof *results);
    int failed = !set.commands || !set.pointers || !set.events || !set.allocations || !set.keys ||
                 !results || (bench_payments && !set.payments);
    size_t applied = 0, batches = 0, refused = 0;
    double seconds = 0;
    while (!failed && applied < commands) {
        size_t count = commands - applied < batch_size ? commands - applied : batch_size;
        bench_commands_make(&set, count, 0, batches);
        ledger_batch batch = {.commands = set.pointers, .command_count = count,
                              .actor = "bench", .principal = bench_principal};
        double started = bench_now_seconds();
        failed = bench_fixed_batch_apply(ledger, &batch, results) != FF_OK;
        seconds += bench_now_seconds() - started;
        for (size_t i = 0; !failed && i < count; i++) refused += results[i].failure.code != FF_OK;
        applied += count;
        batches++;
    }
    if (!failed) {
        printf("%s, %zu of them refused\n\n", bench_payments ? "payments" : "allocations",
               refused);
        printf("%10s %10s %10s %12s %14s\n", "batch", "batches", "commands", "seconds",
               "commands/s");
        printf("%10zu %10zu %10zu %12.3f %14.0f\n", batch_size, batches, applied, seconds,
               seconds > 0 ? (double)applied / seconds : 0.0);
        failed = bench_anchor_run(bench_parent, commands, batch_size,
                                  seconds > 0 ? (double)applied / seconds : 0.0) != 0;
    }
    if (refused != 0) fprintf(stderr, "bench: %zu commands were refused\n", refused);
    free(set.commands), free(set.pointers), free(set.events), free(set.allocations);
    free(set.payments), free(set.keys), free(results);
    return failed || refused != 0 ? -1 : 0;
}

static int bench_verify_and_rebuild(ff_ledger *ledger) {
    verify_report report;
    double started = bench_now_seconds();
    if (verify_ledger(ledger_store(ledger), NULL, &report) != FF_OK) return -1;
    double verified = bench_now_seconds();
    if (verify_rebuild_projections(ledger_store(ledger), &report) != FF_OK) return -1;
    double rebuilt = bench_now_seconds();
    log_head head;
    ledger_head_read(ledger, &head);
    uint64_t used = store_used_bytes(ledger_store(ledger));
    printf("\nevents %llu, data file in use %.1f MiB (%.0f bytes per event)\n",
           (unsigned long long)head.sequence, (double)used / 1048576.0,
           (double)used / (double)head.sequence);
    printf("verify (chain + replay + compare) %.2f s, rebuild %.2f s\n", verified - started,
           rebuilt - verified);
    return 0;
}

/* "--principal ROLE[:SCOPE]": a writer or admin, national or scoped to an organisation. */
static int bench_principal_parse(const char *text, access_principal *who) {
    access_principal_bootstrap(who, "bench", 20240401);
    const char *colon = strchr(text, ':');
    size_t role_bytes = colon ? (size_t)(colon - text) : strlen(text);
    if (role_bytes == 6 && strncmp(text, "writer", 6) == 0) {
        who->role = FUNDFLOW__V1__PRINCIPAL_ROLE__WRITER;
    } else if (role_bytes != 5 || strncmp(text, "admin", 5) != 0) {
        return -1;
    }
    if (colon != NULL) {
        if (strlen(colon + 1) >= sizeof who->scope) return -1;
        snprintf(who->scope, sizeof who->scope, "%s", colon + 1);
    }
    return 0;
}

static const char bench_usage[] =
    "usage: fundflow-bench-core [DIR] [--principal writer|admin[:ORG]]\n"
    "                           [--commands N --batch B [--payments]] [--keep]\n"
    "  DIR            where the scratch data directory is made (default $TMPDIR or /tmp)\n"
    "  --principal    apply the batches as this principal, not unrestricted\n"
    "  --commands N   apply exactly N allocations, with no time limit (1 to %d), then as many\n"
    "                 raw LMDB appends in the same batches, the anchor they are compared with\n"
    "  --batch B      in batches of B commands (1 to %d); needs --commands\n"
    "  --payments     make those N commands payments on a contract of QUE's with the trust RGT,\n"
    "                 which --principal writer:QUE may make; needs --commands\n"
    "  --keep         leave the data directory in place and print its path, to measure it\n"
    "Without --commands: batches of 1, 100 and 1,000 for up to 20,000 commands or 10 s each,\n"
    "then verify and rebuild. Exit codes: 0 done, 1 a batch or check failed, 2 usage.\n";

/* What the command line asks for. */
typedef struct bench_arguments {
    const char *parent;
    size_t fixed_commands; /* 0: the timed settings */
    size_t fixed_batch;
    bool keep; /* leave the data directory, to measure its tables */
} bench_arguments;

/* A whole number from 1 to max, or 0 if text is not one. */
static size_t bench_count_parse(const char *text, size_t max) {
    char *end = NULL;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value < 1 || value > max) {
        return 0;
    }
    return (size_t)value;
}

/* Says what is wrong with the command line, for the usage error; returns -1. */
__attribute__((format(printf, 3, 4)))
static int bench_usage_error(char *problem, size_t problem_bytes, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(problem, problem_bytes, format, arguments);
    va_end(arguments);
    return -1;
}

/* Parses the command line into *arguments; 0 to run, 1 after --help, -1 on a usage error, with
 * problem saying what is wrong. */
static int bench_arguments_parse(int argc, char **argv, bench_arguments *arguments,
                                 access_principal *who, char *problem, size_t problem_bytes) {
    const char *temporary = getenv("TMPDIR");
    *arguments = (bench_arguments){.parent = temporary ? temporary : "/tmp"};
    int i = 1;
    if (i < argc && strncmp(argv[i], "--", 2) != 0) arguments->parent = argv[i++];
    for (; i < argc; i += 2) {
        if (strcmp(argv[i], "--help") == 0) return 1;
        bool keep = strcmp(argv[i], "--keep") == 0, payments = strcmp(argv[i], "--payments") == 0;
        if (keep || payments) {
            arguments->keep |= keep;
            bench_payments |= payments;
            i--; /* a flag with no value */
            continue;
        }
        const char *flag = argv[i];
        bool known = strcmp(flag, "--principal") == 0 || strcmp(flag, "--commands") == 0 ||
                     strcmp(flag, "--batch") == 0;
        if (!known) return bench_usage_error(problem, problem_bytes, "unknown option %s", flag);
        if (i + 1 >= argc) return bench_usage_error(problem, problem_bytes, "%s needs a value", flag);
        const char *value = argv[i + 1];
        if (strcmp(flag, "--principal") == 0) {
            if (bench_principal_parse(value, who) != 0) {
                return bench_usage_error(problem, problem_bytes,
                                         "--principal %s is not writer or admin[:ORG]", value);
            }
            bench_principal = who;
        } else if (strcmp(flag, "--commands") == 0) {
            arguments->fixed_commands = bench_count_parse(value, BENCH_FIXED_COMMANDS_MAX);
            if (arguments->fixed_commands == 0) {
                return bench_usage_error(problem, problem_bytes,
                                         "--commands %s is not a whole number in the range below",
                                         value);
            }
        } else {
            arguments->fixed_batch = bench_count_parse(value, BENCH_FIXED_BATCH_MAX);
            if (arguments->fixed_batch == 0) {
                return bench_usage_error(problem, problem_bytes,
                                         "--batch %s is not a whole number in the range below",
                                         value);
            }
        }
    }
    /* --batch alone would say nothing about how many commands; --commands alone means one batch
     * per command, which is rarely what was meant, so both are required together. */
    if (bench_payments && arguments->fixed_commands == 0) {
        return bench_usage_error(problem, problem_bytes, "%s needs --commands", "--payments");
    }
    if ((arguments->fixed_commands == 0) != (arguments->fixed_batch == 0)) {
        return bench_usage_error(problem, problem_bytes, "%s go together",
                                 "--commands and --batch");
    }
    return 0;
}

int main(int argc, char **argv) {
    static access_principal who;
    bench_arguments arguments;
    char problem[160];
    int parsed = bench_arguments_parse(argc, argv, &arguments, &who, problem, sizeof problem);
    if (parsed < 0) fprintf(stderr, "fundflow-bench-core: %s\n", problem);
    if (parsed != 0) {
        fprintf(parsed > 0 ? stdout : stderr, bench_usage, BENCH_FIXED_COMMANDS_MAX,
                BENCH_FIXED_BATCH_MAX);
        return parsed > 0 ? 0 : 2;
    }
    bench_parent = arguments.parent;
    char directory[4096];
    snprintf(directory, sizeof directory, "%s/fundflow-bench-XXXXXX", arguments.parent);
    if (mkdtemp(directory) == NULL) {
        fprintf(stderr, "bench: cannot create a directory under %s: %s\n", arguments.parent,
                strerror(errno));
        return 1;
    }
    store_options options = {.data_dir = directory};
    ff_ledger *ledger = NULL;
    int failed = ledger_open(&options, &ledger) != FF_OK || bench_world_register(ledger) != 0;
    printf("fundflow core benchmark in %s (%s, each batch one commit with fsync)\n\n",
           directory, bench_payments ? "payments" : "allocations");
    if (!failed && arguments.fixed_commands != 0) {
        failed = bench_fixed_run(ledger, arguments.fixed_commands, arguments.fixed_batch) != 0;
    } else if (!failed) {
        printf("%10s %10s %14s %10s %10s %10s\n", "batch", "commands", "commands/s", "p50 ms",
               "p99 ms", "max ms");
        static const size_t batch_sizes[] = {1, 100, 1000};
        for (size_t i = 0; !failed && i < sizeof batch_sizes / sizeof batch_sizes[0]; i++) {
            failed = bench_setting_run(ledger, batch_sizes[i], i) != 0;
        }
        if (!failed) failed = bench_verify_and_rebuild(ledger) != 0;
    }
    ledger_close(ledger);
    if (arguments.keep) {
        printf("data directory kept: %s\n", directory);
    } else {
        nftw(directory, bench_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    if (failed) fprintf(stderr, "bench: a batch or check failed\n");
    return failed ? 1 : 0;
}
