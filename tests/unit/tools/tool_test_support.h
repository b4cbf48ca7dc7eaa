/* Helpers for the tools' unit tests: catching what the code writes to stdout or stderr, so that
 * a test can check a message or a table as a user would see it, and command lines as main gets
 * them. Single-threaded, one capture at a time per stream. */
#ifndef FUNDFLOW_TOOL_TEST_SUPPORT_H
#define FUNDFLOW_TOOL_TEST_SUPPORT_H

#include <stddef.h>
#include <stdio.h>

/* The most words, and bytes of them, in one test's command line. */
#define TOOL_TEST_ARGS_MAX 32
#define TOOL_TEST_ARGS_TEXT_BYTES 1024

/* A command line with writable words, as main's argv has. */
typedef struct tool_test_args {
    int argc;
    char *argv[TOOL_TEST_ARGS_MAX + 1];
    char text[TOOL_TEST_ARGS_TEXT_BYTES];
} tool_test_args;

/* Fills args with copies of count words. */
void tool_test_args_set(tool_test_args *args, const char *const *words, size_t count);

/* TOOL_TEST_ARGS_SET(&args, "fundflow", "org", "add") */
#define TOOL_TEST_ARGS_SET(args, ...)                                                          \
    tool_test_args_set((args), (const char *const[]){__VA_ARGS__},                             \
                       sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

typedef struct tool_test_capture {
    FILE *stream;    /* stdout or stderr */
    FILE *file;      /* where the stream's descriptor points while capturing */
    int saved_fd;    /* the stream's own descriptor, to put back */
} tool_test_capture;

/* Points stream (stdout or stderr) at a temporary file until tool_test_capture_end. */
void tool_test_capture_begin(tool_test_capture *capture, FILE *stream);

/* Puts the stream back and returns everything written to it meanwhile, NUL-terminated, which
 * the caller frees. */
char *tool_test_capture_end(tool_test_capture *capture);

#endif
