/* Help text, enum names and --version, shared by the command-line tools (fundflow,
 * fundflow-admin and fundflow-bench). */
#ifndef FUNDFLOW_TOOL_HELP_H
#define FUNDFLOW_TOOL_HELP_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdio.h>

/* The longest enum name a flag accepts, such as "SERVICE_DEVELOPMENT_FUNDING". */
#define TOOL_ENUM_NAME_BYTES_MAX 64

/* Prints text line by line, each line after indent. */
void tool_lines_print(FILE *out, const char *text, const char *indent);

/* Prints "One of: a, b, c." with an enum's names in lower case, as flags accept them, wrapped to
 * fit a terminal. The unspecified value (0) is left out. */
void tool_choices_print(FILE *out, const ProtobufCEnumDescriptor *descriptor);

/* Looks an enum value up by name in any case, with '-' standing for '_'. Returns NULL for an
 * unknown name and for the unspecified value (0), which names no real stream or kind. */
const ProtobufCEnumValue *tool_enum_find(const ProtobufCEnumDescriptor *descriptor,
                                         const char *text);

/* When the command line is "PROGRAM --version", prints "PROGRAM VERSION" (the project's version
 * from CMake) on stdout and returns true: the program then exits 0. Otherwise returns false. */
bool tool_version_print_if_asked(const char *program, int argc, char **argv);

#endif
