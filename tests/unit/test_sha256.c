/* Unit tests of sha256_parts, the one SHA-256 under the hash chain and the Merkle tree: the
 * FIPS 180-2 examples, a message split at every place into parts, and several threads at once.
 * CMake builds this file twice: against fundflow's library (OpenSSL's SHA256_* calls) and, as
 * test_sha256_evp, with sha256.c compiled for a library without deprecated interfaces (the EVP
 * path), so both paths are known to give the same bytes. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sha256.h"

static void digest_hex(const uint8_t digest[SHA256_DIGEST_BYTES],
                       char hex[2 * SHA256_DIGEST_BYTES + 1]) {
    for (int i = 0; i < SHA256_DIGEST_BYTES; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static void assert_digest_of(const char *message, const char *expected_hex) {
    sha256_part part = {message, strlen(message)};
    uint8_t digest[SHA256_DIGEST_BYTES];
    char hex[2 * SHA256_DIGEST_BYTES + 1];
    assert_int_equal(sha256_parts(&part, 1, digest), FF_OK);
    digest_hex(digest, hex);
    assert_string_equal(hex, expected_hex);
}

/* FIPS 180-2, appendix B: one block, two blocks, and the empty message. */
static void test_the_standards_examples(void **state) {
    (void)state;
    assert_digest_of("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    assert_digest_of("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    uint8_t digest[SHA256_DIGEST_BYTES];
    char hex[2 * SHA256_DIGEST_BYTES + 1];
    assert_int_equal(sha256_parts(NULL, 0, digest), FF_OK);
    digest_hex(digest, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* A 300-byte message (about a log record, five blocks) split into three parts at every pair of
 * places, empty parts included, hashes as the message whole. */
static void test_parts_hash_as_the_whole(void **state) {
    (void)state;
    uint8_t message[300];
    for (size_t i = 0; i < sizeof message; i++) message[i] = (uint8_t)(i * 7 + 3);
    uint8_t whole[SHA256_DIGEST_BYTES], split[SHA256_DIGEST_BYTES];
    sha256_part one = {message, sizeof message};
    assert_int_equal(sha256_parts(&one, 1, whole), FF_OK);
    for (size_t first = 0; first <= sizeof message; first += 13) {
        for (size_t second = first; second <= sizeof message; second += 29) {
            sha256_part parts[3] = {{message, first},
                                    {message + first, second - first},
                                    {message + second, sizeof message - second}};
            assert_int_equal(sha256_parts(parts, 3, split), FF_OK);
            assert_memory_equal(split, whole, SHA256_DIGEST_BYTES);
        }
    }
}

enum { THREADS = 4, ROUNDS_PER_THREAD = 2000 };

typedef struct hashing_thread {
    pthread_t thread;
    uint8_t seed;
    int wrong; /* digests that differed from the one worked out before the threads began */
    uint8_t expected[SHA256_DIGEST_BYTES];
} hashing_thread;

static void hashing_thread_digest(uint8_t seed, uint8_t digest[SHA256_DIGEST_BYTES]) {
    uint8_t message[200];
    memset(message, seed, sizeof message);
    sha256_part parts[2] = {{message, 64}, {message + 64, sizeof message - 64}};
    if (sha256_parts(parts, 2, digest) != FF_OK) memset(digest, 0, SHA256_DIGEST_BYTES);
}

static void *hashing_thread_run(void *argument) {
    hashing_thread *hashing = argument;
    for (int round = 0; round < ROUNDS_PER_THREAD; round++) {
        uint8_t digest[SHA256_DIGEST_BYTES];
        hashing_thread_digest(hashing->seed, digest);
        if (memcmp(digest, hashing->expected, sizeof digest) != 0) hashing->wrong++;
    }
    return NULL;
}

/* Four threads hashing different messages at once each get their own message's digest every
 * time (a context shared between threads would mix them). */
static void test_threads_hash_at_once(void **state) {
    (void)state;
    hashing_thread threads[THREADS];
    for (int i = 0; i < THREADS; i++) {
        threads[i] = (hashing_thread){.seed = (uint8_t)(0x11 * (i + 1))};
        hashing_thread_digest(threads[i].seed, threads[i].expected);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_create(&threads[i].thread, NULL, hashing_thread_run, &threads[i]),
                         0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(threads[i].thread, NULL), 0);
        assert_int_equal(threads[i].wrong, 0);
    }
    assert_memory_not_equal(threads[0].expected, threads[1].expected, SHA256_DIGEST_BYTES);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_standards_examples),
        cmocka_unit_test(test_parts_hash_as_the_whole),
        cmocka_unit_test(test_threads_hash_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
