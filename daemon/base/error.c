/* Lookups into the error table; every function here is generated from FF_ERROR_TABLE. */
#include "fundflow/error.h"

const char *ff_err_name(ff_err code) {
    switch (code) {
#define FF_ERROR_NAME(symbol, number, name, message, twirp)                                        \
    case symbol:                                                                                   \
        return name;
        FF_ERROR_TABLE(FF_ERROR_NAME)
#undef FF_ERROR_NAME
    }
    return "unknown";
}

const char *ff_strerror(ff_err code) {
    switch (code) {
#define FF_ERROR_MESSAGE(symbol, number, name, message, twirp)                                     \
    case symbol:                                                                                   \
        return message;
        FF_ERROR_TABLE(FF_ERROR_MESSAGE)
#undef FF_ERROR_MESSAGE
    }
    return "unknown error";
}

const char *ff_err_twirp_code(ff_err code) {
    switch (code) {
#define FF_ERROR_TWIRP(symbol, number, name, message, twirp)                                       \
    case symbol:                                                                                   \
        return twirp;
        FF_ERROR_TABLE(FF_ERROR_TWIRP)
#undef FF_ERROR_TWIRP
    }
    return "internal";
}
