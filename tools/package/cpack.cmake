# The Debian package: "cpack -G DEB" in the build directory (tests/integration/test_package.sh
# builds and inspects it). Installs under /usr, with /etc/fundflow/fundflowd.conf as a conffile.
# Depends comes from dpkg-shlibdeps: the Debian packages of the libraries the binaries link.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fundflow)
set(CPACK_PACKAGE_VENDOR "fundflow")
set(CPACK_PACKAGE_CONTACT "fundflow maintainers <fundflow@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ledger server for NHS England funding flows")
set(CPACK_PACKAGE_DESCRIPTION
  "fundflowd records allocations, budgets, contracts and payments as events in an\nappend-only, hash-chained log on LMDB, and serves them over Twirp; fundflow is its\ncommand line and fundflow-admin its offline administration tool.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Install with DESTDIR, so that /etc goes into the package under /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.invalid/fundflow")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/tools/package/postinst
  ${PROJECT_SOURCE_DIR}/tools/package/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
