/* Catches stdout or stderr in a temporary file, and builds command lines, for the tools' unit
 * tests. */
#include "tool_test_support.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tool_test_capture_begin(tool_test_capture *capture, FILE *stream) {
    fflush(stream);
    capture->stream = stream;
    capture->file = tmpfile();
    assert_non_null(capture->file);
    capture->saved_fd = dup(fileno(stream));
    assert_true(capture->saved_fd >= 0);
    assert_true(dup2(fileno(capture->file), fileno(stream)) >= 0);
}

char *tool_test_capture_end(tool_test_capture *capture) {
    fflush(capture->stream);
    assert_true(dup2(capture->saved_fd, fileno(capture->stream)) >= 0);
    close(capture->saved_fd);
    /* The stream wrote through its own descriptor, so measure the file rather than trust the
     * FILE's idea of its position. */
    assert_int_equal(fseek(capture->file, 0, SEEK_END), 0);
    long size = ftell(capture->file);
    assert_true(size >= 0);
    rewind(capture->file);
    char *text = malloc((size_t)size + 1);
    assert_non_null(text);
    size_t got = fread(text, 1, (size_t)size, capture->file);
    text[got] = '\0';
    fclose(capture->file);
    return text;
}

void tool_test_args_set(tool_test_args *args, const char *const *words, size_t count) {
    assert_true(count <= TOOL_TEST_ARGS_MAX);
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        size_t bytes = strlen(words[i]) + 1;
        assert_true(used + bytes <= sizeof args->text);
        memcpy(&args->text[used], words[i], bytes);
        args->argv[i] = &args->text[used];
        used += bytes;
    }
    args->argv[count] = NULL;
    args->argc = (int)count;
}
