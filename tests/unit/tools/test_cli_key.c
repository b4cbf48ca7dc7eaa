/* Unit tests for cli_key_derive, the idempotency key the fundflow client derives from a write's
 * content: the same command always gets the same key, and changing any one thing that goes into
 * the event, the subcommand or the effective date gives another. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cli_values.h"
#include "fundflow/v1/events.pb-c.h"

/* The payment every test starts from: £10,000.00 for M1 under QUE-BLK-1. */
typedef struct test_payment {
    Fundflow__V1__PaymentMade payment;
    Fundflow__V1__Event event;
} test_payment;

static void test_payment_init(test_payment *made) {
    fundflow__v1__payment_made__init(&made->payment);
    made->payment.contract_id = (char *)"QUE-BLK-1";
    made->payment.month = 1;
    made->payment.amount_pence = 1000000;
    made->payment.reference = (char *)"";
    fundflow__v1__event__init(&made->event);
    made->event.kind_case = FUNDFLOW__V1__EVENT__KIND_PAYMENT_MADE;
    made->event.payment_made = &made->payment;
}

static void test_key_of(const test_payment *made, const char *subcommand, uint32_t date,
                        char key[CLI_KEY_TEXT_BYTES]) {
    assert_true(cli_key_derive(subcommand, date, &made->event.base, key, CLI_KEY_TEXT_BYTES));
}

/* The key is "cli-" and 32 lower-case hex digits, and the same each time it is made. */
static void test_same_command_same_key(void **state) {
    (void)state;
    test_payment first, second;
    test_payment_init(&first);
    test_payment_init(&second);
    char key[CLI_KEY_TEXT_BYTES], again[CLI_KEY_TEXT_BYTES];
    test_key_of(&first, "pay", 20240430, key);
    test_key_of(&second, "pay", 20240430, again);
    assert_string_equal(key, again);
    assert_int_equal(strlen(key), 36);
    assert_memory_equal(key, "cli-", 4);
    assert_int_equal(strspn(key + 4, "0123456789abcdef"), 32);
}

/* The key does not depend on where the texts live, only on what they say. */
static void test_key_reads_content_not_pointers(void **state) {
    (void)state;
    test_payment made;
    test_payment_init(&made);
    char key[CLI_KEY_TEXT_BYTES], copied_key[CLI_KEY_TEXT_BYTES];
    test_key_of(&made, "pay", 20240430, key);
    char copy[] = "QUE-BLK-1";
    made.payment.contract_id = copy;
    test_key_of(&made, "pay", 20240430, copied_key);
    assert_string_equal(key, copied_key);
}

/* A known key, so that a change to the recipe, which would make every earlier command record
 * again, is seen. Worked outside the client (Python's hashlib): the packed event is field 11
 * holding contract_id "QUE-BLK-1" (field 1), month 1 (field 2) and amount_pence 1000000
 * (field 3); its SHA-256 after "fundflow cli idempotency key v1\0pay\020240430\0" begins
 * da9b6ad80aa15a31cb3b018b28456c51. */
#define TEST_KNOWN_KEY "cli-da9b6ad80aa15a31cb3b018b28456c51"
static void test_key_is_stable_across_builds(void **state) {
    (void)state;
    test_payment made;
    test_payment_init(&made);
    char key[CLI_KEY_TEXT_BYTES];
    test_key_of(&made, "pay", 20240430, key);
    assert_string_equal(key, TEST_KNOWN_KEY);
}

/* Each change, one at a time, gives a key unlike the first and unlike every other change's. */
static void test_any_change_changes_the_key(void **state) {
    (void)state;
    enum { CHANGES = 8 };
    char keys[CHANGES][CLI_KEY_TEXT_BYTES];
    test_payment made;
    test_payment_init(&made);
    test_key_of(&made, "pay", 20240430, keys[0]);
    test_key_of(&made, "pay", 20240501, keys[1]); /* another --date */
    test_key_of(&made, "reverse", 20240430, keys[2]); /* another subcommand */
    made.payment.reference = (char *)"INV-2"; /* a distinct --reference */
    test_key_of(&made, "pay", 20240430, keys[3]);
    test_payment_init(&made);
    made.payment.amount_pence = 1000001; /* a penny more */
    test_key_of(&made, "pay", 20240430, keys[4]);
    test_payment_init(&made);
    made.payment.month = 2;
    test_key_of(&made, "pay", 20240430, keys[5]);
    test_payment_init(&made);
    made.payment.contract_id = (char *)"QUE-BLK-2";
    test_key_of(&made, "pay", 20240430, keys[6]);
    test_payment_init(&made);
    made.payment.paid_in_advance = true;
    test_key_of(&made, "pay", 20240430, keys[7]);
    for (int i = 0; i < CHANGES; i++) {
        for (int j = i + 1; j < CHANGES; j++) assert_string_not_equal(keys[i], keys[j]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_command_same_key),
        cmocka_unit_test(test_key_reads_content_not_pointers),
        cmocka_unit_test(test_key_is_stable_across_builds),
        cmocka_unit_test(test_any_change_changes_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
