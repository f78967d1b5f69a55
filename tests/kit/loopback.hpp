#pragma once

#include <cstdint>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace warren {

/// The address 127.0.0.1:`port` (0: any free port, for bind), for the kit's servers
/// and the tests that talk to them.
inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

} // namespace warren
