/* The inside of a parsed mapping, shared by mapping.c (the parser) and mapped_reader.c (which
 * reads a CSV file through it). Nothing outside those two files includes this. */
#ifndef FUNDFLOW_TOOLS_MAPPING_INTERNAL_H
#define FUNDFLOW_TOOLS_MAPPING_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "mapping.h"

/* kind, match, tolerance, date window, reference, then the four with accessors of their own. */
#define MAPPING_DIRECTIVES 9
#define MAPPING_DIRECTIVE_REFERENCE 4
#define MAPPING_DIRECTIVE_DATE_FORMAT 5
#define MAPPING_DIRECTIVE_AMOUNT_FORMAT 6
#define MAPPING_DIRECTIVE_AMOUNT_SIGN 7
#define MAPPING_DIRECTIVE_HEADER 8

/* One field: from a column (heading, and position when the heading is #N) or a constant. */
typedef struct mapping_field {
    char *name;
    char *heading;   /* as written in the mapping, NULL for a constant */
    size_t position; /* from 1 when written #N, else 0 */
    char *constant;  /* NULL for a column */
    size_t line;     /* the mapping's line, for messages */
} mapping_field;

struct mapping {
    size_t field_count;
    mapping_field fields[MAPPING_FIELDS_MAX];
    char *directives[MAPPING_DIRECTIVES];
    size_t directive_lines[MAPPING_DIRECTIVES];
    mapping_date_format date_format;
    mapping_amount_format amount_format;
    bool negated;
    bool has_header;
};

#endif
