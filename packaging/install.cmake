# Run by `cmake --install` (make install, and CPack for make deb): writes the
# systemd unit and the default config for the prefix being installed to. The
# prefix is known only now: `make install PREFIX=/usr/local` puts the config in
# /usr/local/etc, the Debian package (prefix /usr) in /etc.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(prefix STREQUAL "/usr")
  set(sysconfdir "/etc")
else()
  set(sysconfdir "${prefix}/etc")
endif()
set(P2P_BINDIR "${prefix}/bin")
set(P2P_SYSCONFDIR "${sysconfdir}")
# file(INSTALL) stages under $DESTDIR by itself; only the test below needs it.
set(root "$ENV{DESTDIR}")

configure_file("${P2P_SOURCE_DIR}/packaging/p2ptracker.service.in"
               "${P2P_BINARY_DIR}/packaging/p2ptracker.service" @ONLY)
file(INSTALL "${P2P_BINARY_DIR}/packaging/p2ptracker.service"
     DESTINATION "${prefix}/lib/systemd/system")

# The embedded defaults, with data_dir where the unit's StateDirectory is.
# An existing file is an operator's: left as it is (dpkg keeps conffiles).
set(config "${root}${sysconfdir}/p2ptracker/p2ptracker.toml")
if(NOT EXISTS "${config}")
  file(INSTALL "${P2P_BINARY_DIR}/packaging/p2ptracker.toml"
       DESTINATION "${sysconfdir}/p2ptracker")
else()
  message(STATUS "Keeping ${config}")
endif()
