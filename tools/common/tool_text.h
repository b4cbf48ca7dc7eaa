/* Text as a terminal shows it, for the tools' tables and help: how many columns UTF-8 text
 * takes, and padding it to a column. */
#ifndef FUNDFLOW_TOOL_TEXT_H
#define FUNDFLOW_TOOL_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* How many characters text shows as: every byte except UTF-8 continuation bytes. Every
 * character counts as one column; the tools print no wide (East Asian) or combining ones. */
size_t tool_text_columns(const char *text);

/* Writes text, then spaces up to columns, measured with tool_text_columns. Text already as
 * wide or wider is written whole, with no spaces. */
void tool_text_pad_write(FILE *out, const char *text, size_t columns);

#endif
