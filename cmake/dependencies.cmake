# Finds every library and tool fundflow builds against, naming the Debian package for each one.
find_program(FF_PKG_CONFIG pkg-config)
if(NOT FF_PKG_CONFIG)
  message(FATAL_ERROR "pkg-config was not found. Install it with: apt-get install pkg-config "
                      "(or run tools/setup.sh as root)")
endif()
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# ff_require_module(<prefix> <pkg-config module> <Debian package>) imports PkgConfig::<prefix>
# or stops with a message naming the package to install.
function(ff_require_module prefix module debian_package)
  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET GLOBAL ${module})
  if(NOT ${prefix}_FOUND)
    message(FATAL_ERROR "${module} was not found. Install it with: apt-get install "
                        "${debian_package} (or run tools/setup.sh as root)")
  endif()
endfunction()

ff_require_module(LMDB lmdb liblmdb-dev)
ff_require_module(PROTOBUF_C libprotobuf-c libprotobuf-c-dev)
ff_require_module(CRYPTO libcrypto libssl-dev)
ff_require_module(SSL libssl libssl-dev)
ff_require_module(LIBEVENT libevent libevent-dev)
ff_require_module(LIBEVENT_PTHREADS libevent_pthreads libevent-dev)
ff_require_module(LIBEVENT_OPENSSL libevent_openssl libevent-dev)
ff_require_module(JANSSON jansson libjansson-dev)
ff_require_module(CMOCKA cmocka libcmocka-dev)
ff_require_module(XLSXWRITER xlsxwriter libxlsxwriter-dev)
ff_require_module(RAFT raft libraft-dev)
ff_require_module(LIBUV libuv libuv1-dev)

find_program(FF_PROTOC_C protoc-c)
if(NOT FF_PROTOC_C)
  message(FATAL_ERROR "protoc-c was not found. Install it with: apt-get install "
                      "protobuf-c-compiler (or run tools/setup.sh as root)")
endif()
