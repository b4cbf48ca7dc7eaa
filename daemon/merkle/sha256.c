/* SHA-256 through OpenSSL: its SHA256_Init/Update/Final where the library still has them, else
 * its EVP interface with the method fetched once per process and one digest context per thread. */
#include "sha256.h"

#include <assert.h>

/* OpenSSL 3 marks the SHA256_* calls deprecated but keeps them unless it is built without
 * deprecated interfaces (OPENSSL_NO_DEPRECATED_3_0). They reach the same block function as EVP
 * (with the CPU's SHA extensions where it has them) and skip EVP_DigestInit_ex's provider
 * dispatch and checks: about 650 of the 12,400 instructions of hashing a 290-byte record, 3% of
 * the write path's instructions (three digests a command). The EVP path stays for a library
 * without them; both give the same bytes. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/opensslconf.h>
#include <openssl/sha.h>

#if !defined(OPENSSL_NO_DEPRECATED_3_0)

_Static_assert(SHA256_DIGEST_LENGTH == SHA256_DIGEST_BYTES, "SHA-256 gives 32 bytes");

ff_err sha256_parts(const sha256_part *parts, size_t part_count,
                    uint8_t digest_out[SHA256_DIGEST_BYTES]) {
    assert(parts != NULL || part_count == 0);
    SHA256_CTX context;
    if (SHA256_Init(&context) != 1) return FF_ERR_INTERNAL;
    for (size_t i = 0; i < part_count; i++) {
        if (parts[i].size == 0) continue;
        if (SHA256_Update(&context, parts[i].bytes, parts[i].size) != 1) return FF_ERR_INTERNAL;
    }
    return SHA256_Final(digest_out, &context) == 1 ? FF_OK : FF_ERR_INTERNAL;
}

#else

#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
/* OpenSSL 3's EVP_sha256() is a stand-in that makes every EVP_DigestInit_ex fetch the method
 * again from the provider store, under its locks: about half the cost of a short digest. The
 * method is therefore fetched once per process and shared. A fetched EVP_MD is immutable and
 * reference-counted, and OpenSSL lets any number of threads use one at once (openssl-threads(7)).
 * It is kept for the life of the process: one small object, still reachable at exit. */
static pthread_once_t sha256_method_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_method_fetched;

static void sha256_method_fetch(void) {
    sha256_method_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* The fetched SHA-256, or OpenSSL's stand-in if the fetch failed (slower, but the same bytes). */
static const EVP_MD *sha256_method(void) {
    pthread_once(&sha256_method_once, sha256_method_fetch);
    return sha256_method_fetched != NULL ? sha256_method_fetched : EVP_sha256();
}

/* Each thread keeps one digest context, made at its first digest and freed when the thread
 * exits (a pthread key's destructor; the main thread's is still reachable at exit): making and
 * freeing one per digest cost about a fifth of hashing a log record. */
static pthread_once_t sha256_context_once = PTHREAD_ONCE_INIT;
static pthread_key_t sha256_context_key;
static bool sha256_context_key_made;

static void sha256_context_free(void *context) { EVP_MD_CTX_free(context); }

static void sha256_context_key_make(void) {
    sha256_context_key_made = pthread_key_create(&sha256_context_key, sha256_context_free) == 0;
}

/* The thread's context, or NULL if it cannot be made. */
static EVP_MD_CTX *sha256_context(void) {
    static _Thread_local EVP_MD_CTX *kept;
    if (kept != NULL) return kept;
    pthread_once(&sha256_context_once, sha256_context_key_make);
    if (!sha256_context_key_made) return NULL;
    kept = EVP_MD_CTX_new();
    if (kept != NULL && pthread_setspecific(sha256_context_key, kept) != 0) {
        EVP_MD_CTX_free(kept);
        kept = NULL;
    }
    return kept;
}

ff_err sha256_parts(const sha256_part *parts, size_t part_count,
                    uint8_t digest_out[SHA256_DIGEST_BYTES]) {
    assert(parts != NULL || part_count == 0);
    EVP_MD_CTX *context = sha256_context();
    if (context == NULL) return FF_ERR_NO_MEMORY;
    if (EVP_DigestInit_ex(context, sha256_method(), NULL) != 1) return FF_ERR_INTERNAL;
    for (size_t i = 0; i < part_count; i++) {
        if (parts[i].size == 0) continue;
        if (EVP_DigestUpdate(context, parts[i].bytes, parts[i].size) != 1) return FF_ERR_INTERNAL;
    }
    unsigned digest_bytes = 0;
    if (EVP_DigestFinal_ex(context, digest_out, &digest_bytes) != 1) return FF_ERR_INTERNAL;
    assert(digest_bytes == SHA256_DIGEST_BYTES);
    return FF_OK;
}

#endif
