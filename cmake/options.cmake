# Compiler warnings and sanitizers, applied per target through ff_target_defaults().
add_library(ff_warnings INTERFACE)
target_compile_options(ff_warnings INTERFACE
  -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-align -Wstrict-prototypes
  -Wmissing-prototypes -Wwrite-strings -Wvla -Wformat=2 -Wconversion -Wno-sign-conversion
  -Wimplicit-fallthrough)
target_compile_definitions(ff_warnings INTERFACE _GNU_SOURCE)

add_library(ff_sanitizers INTERFACE)
if(FF_SANITIZE)
  target_compile_options(ff_sanitizers INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(ff_sanitizers INTERFACE -fsanitize=address,undefined)
endif()

# ff_target_defaults(<target>) gives a target of ours the project's warnings and sanitizers.
function(ff_target_defaults target)
  target_link_libraries(${target} PRIVATE ff_warnings ff_sanitizers)
endfunction()
