#include "protocol/metric_families.hpp"

#include <doctest/doctest.h>

using namespace warren;

TEST_CASE("session metrics: open sessions are counted by transport") {
  actor_status root;
  root.kind = "process";
  for (const char* transport : {"http", "http", "stdio"}) {
    actor_status s;
    s.kind = "session";
    s.name = transport;
    s.figures = {{"in_flight", 2}};
    root.children.push_back(s);
  }
  auto text = to_prometheus_text(metric_families(root, request_snapshot{}, {}));
  CHECK(text.find(R"(warren_sessions{transport="http"} 2)") != std::string::npos);
  CHECK(text.find(R"(warren_sessions{transport="stdio"} 1)") != std::string::npos);
  CHECK(text.find("warren_requests_in_flight 6") != std::string::npos);
}
