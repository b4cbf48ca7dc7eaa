/* Help text, enum names and --version, shared by the command-line tools. */
#include "tool_help.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Help lines wrap before this column. */
#define TOOL_HELP_COLUMNS 92

void tool_lines_print(FILE *out, const char *text, const char *indent) {
    const char *line = text;
    while (*line != '\0') {
        size_t length = strcspn(line, "\n");
        fprintf(out, "%s%.*s\n", indent, (int)length, line);
        line += length;
        if (*line == '\n') line++;
    }
}

void tool_choices_print(FILE *out, const ProtobufCEnumDescriptor *descriptor) {
    static const char indent[] = "      ";
    size_t column = (size_t)fprintf(out, "%sOne of:", indent);
    bool first = true;
    for (unsigned i = 0; i < descriptor->n_values; i++) {
        const ProtobufCEnumValue *value = &descriptor->values[i];
        if (value->value <= 0) continue;
        size_t length = strlen(value->name);
        if (!first) fputc(',', out);
        if (column + length + 3 > TOOL_HELP_COLUMNS) {
            column = (size_t)fprintf(out, "\n%s", indent) - 1;
        } else {
            fputc(' ', out);
            column += 2;
        }
        for (size_t j = 0; j < length; j++) fputc(tolower((unsigned char)value->name[j]), out);
        column += length;
        first = false;
    }
    fprintf(out, ".\n");
}

const ProtobufCEnumValue *tool_enum_find(const ProtobufCEnumDescriptor *descriptor,
                                         const char *text) {
    char name[TOOL_ENUM_NAME_BYTES_MAX + 1];
    size_t length = strlen(text);
    if (length == 0 || length > TOOL_ENUM_NAME_BYTES_MAX) return NULL;
    for (size_t i = 0; i <= length; i++) {
        name[i] = text[i] == '-' ? '_' : (char)toupper((unsigned char)text[i]);
    }
    const ProtobufCEnumValue *found = protobuf_c_enum_descriptor_get_value_by_name(descriptor,
                                                                                   name);
    return found != NULL && found->value > 0 ? found : NULL;
}

bool tool_version_print_if_asked(const char *program, int argc, char **argv) {
    if (argc != 2 || strcmp(argv[1], "--version") != 0) return false;
    printf("%s %s\n", program, FUNDFLOW_VERSION);
    return true;
}
