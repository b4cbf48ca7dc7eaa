/* SHA-256 through OpenSSL's EVP interface, and the digest of a command's content. */
#include "digest.h"

#include <assert.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* A command's packed content fits in this much stack for every ordinary event; a larger one (a
 * long name or many fields) is packed into the heap instead. Not a limit on anything. */
enum { DIGEST_CONTENT_STACK_BYTES = 1024 };

/* OpenSSL 3's EVP_sha256() is a stand-in that makes every EVP_DigestInit_ex fetch the method
 * again from the provider store, under its locks: about half the cost of a short digest. The
 * method is therefore fetched once per process and shared. A fetched EVP_MD is immutable and
 * reference-counted, and OpenSSL lets any number of threads use one at once (openssl-threads(7)),
 * so readers verifying on other threads share it safely; each digest still has its own context.
 * It is kept for the life of the process rather than the store's, because digests are also taken
 * without a store (a principal's token); it is one small object, still reachable at exit. */
static pthread_once_t digest_sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *digest_sha256_fetched;

static void digest_sha256_fetch(void) {
    digest_sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The fetched SHA-256, or OpenSSL's stand-in if the fetch failed (slower, but the same bytes). */
static const EVP_MD *digest_sha256(void) {
    pthread_once(&digest_sha256_once, digest_sha256_fetch);
    return digest_sha256_fetched != NULL ? digest_sha256_fetched : EVP_sha256();
}

/* Each thread keeps one digest context, made at its first digest and freed when the thread
 * exits (a pthread key's destructor; the main thread's is still reachable at exit): making and
 * freeing one per digest cost about a fifth of hashing a log record. */
static pthread_once_t digest_context_once = PTHREAD_ONCE_INIT;
static pthread_key_t digest_context_key;
static bool digest_context_key_made;

static void digest_context_free(void *context) { EVP_MD_CTX_free(context); }

static void digest_context_key_make(void) {
    digest_context_key_made = pthread_key_create(&digest_context_key, digest_context_free) == 0;
}

/* The thread's context, or NULL if it cannot be made. */
static EVP_MD_CTX *digest_context(void) {
    static _Thread_local EVP_MD_CTX *kept;
    if (kept != NULL) return kept;
    pthread_once(&digest_context_once, digest_context_key_make);
    if (!digest_context_key_made) return NULL;
    kept = EVP_MD_CTX_new();
    if (kept != NULL && pthread_setspecific(digest_context_key, kept) != 0) {
        EVP_MD_CTX_free(kept);
        kept = NULL;
    }
    return kept;
}

ff_err digest_two_parts(const uint8_t *first, size_t first_bytes, const uint8_t *second,
                        size_t second_bytes, uint8_t digest_out[DIGEST_BYTES]) {
    const EVP_MD *sha256 = digest_sha256();
    EVP_MD_CTX *context = digest_context();
    if (context == NULL) return FF_ERR_NO_MEMORY;
    unsigned digest_bytes = 0;
    int ok = EVP_DigestInit_ex(context, sha256, NULL) &&
             EVP_DigestUpdate(context, first, first_bytes) &&
             EVP_DigestUpdate(context, second, second_bytes) &&
             EVP_DigestFinal_ex(context, digest_out, &digest_bytes);
    if (!ok) return FF_ERR_INTERNAL;
    assert(digest_bytes == DIGEST_BYTES);
    return FF_OK;
}

ff_err digest_command_content(uint32_t effective_date, const Fundflow__V1__Event *event,
                              uint8_t digest_out[DIGEST_BYTES]) {
    Fundflow__V1__Command content = FUNDFLOW__V1__COMMAND__INIT;
    content.effective_date = effective_date;
    content.event = (Fundflow__V1__Event *)event;
    size_t packed_bytes = fundflow__v1__command__get_packed_size(&content);
    uint8_t on_stack[DIGEST_CONTENT_STACK_BYTES];
    uint8_t *packed = packed_bytes <= sizeof on_stack ? on_stack : malloc(packed_bytes);
    if (packed == NULL) return FF_ERR_NO_MEMORY;
    size_t written = fundflow__v1__command__pack(&content, packed);
    assert(written == packed_bytes);
    ff_err err = digest_two_parts(packed, packed_bytes, NULL, 0, digest_out);
    if (packed != on_stack) free(packed);
    return err;
}
