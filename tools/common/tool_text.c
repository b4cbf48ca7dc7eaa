/* Display width of UTF-8 text and padding to a column, shared by fundflow and fundflow-admin. */
#include "tool_text.h"

size_t tool_text_columns(const char *text) {
    size_t columns = 0;
    for (const unsigned char *cursor = (const unsigned char *)text; *cursor; cursor++) {
        if ((*cursor & 0xC0) != 0x80) columns++;
    }
    return columns;
}

void tool_text_pad_write(FILE *out, const char *text, size_t columns) {
    fputs(text, out);
    for (size_t shown = tool_text_columns(text); shown < columns; shown++) fputc(' ', out);
}
