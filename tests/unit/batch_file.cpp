#include "protocol/batch_file.hpp"

#include <doctest/doctest.h>

#include "protocol/error.hpp"
#include "protocol/tool_catalog.hpp"

using namespace warren;

namespace {

tool_result job_result(const std::string& items_json, bool is_error = false) {
  auto structured = R"({"items":)" + items_json + R"(,"totals":{}})";
  return {is_error, R"({"content":[{"type":"text","text":"x"}],"structuredContent":)" +
                        structured + R"(,"isError":)" + (is_error ? "true" : "false") +
                        "}"};
}

} // namespace

TEST_CASE("batch file: a JSON array gives its elements, NDJSON its lines") {
  auto array = parse_batch_items(R"( [{"name":"a"}, "b", 3] )");
  REQUIRE(array);
  CHECK(*array == std::vector<std::string>{R"({"name":"a"})", R"("b")", "3"});
  auto lines = parse_batch_items("{\"name\":\"a\"}\n\n  \n{\"name\": \"b\"}\r\n");
  REQUIRE(lines);
  CHECK(*lines == std::vector<std::string>{R"({"name":"a"})", R"({"name":"b"})"});
}

TEST_CASE("batch file: a bad line is named, and an empty file is refused") {
  auto bad = parse_batch_items("{\"a\":1}\n{oops\n");
  REQUIRE_FALSE(bad);
  CHECK(message_of(bad.error()).find("line 2") != std::string::npos);
  CHECK_FALSE(parse_batch_items("  \n"));
  auto broken = parse_batch_items("[1, 2");
  REQUIRE_FALSE(broken);
  CHECK(message_of(broken.error()).find("JSON array") != std::string::npos);
}

TEST_CASE("batch file: one call's arguments take a slice of the items and the extra "
          "members") {
  std::vector<std::string> items{"1", "2", "3", "4"};
  CHECK(batch_call_arguments("names", items, 1, 3, R"("force":true)") ==
        R"({"names":[2,3],"force":true})");
  CHECK(batch_call_arguments("queues", items, 3, 9, "") == R"({"queues":[4]})");
}

TEST_CASE("batch report: calls' items land at their place in the file, with totals") {
  batch_report report;
  add_call_result(report,
                  job_result(R"([{"index":0,"resource":"a","vhost":"/","status":)"
                             R"("succeeded"},{"index":1,"resource":"b","vhost":"/",)"
                             R"("status":"failed","error":"no vhost"}])"),
                  0);
  add_call_result(report,
                  job_result(R"([{"index":0,"resource":"c","vhost":"/","status":)"
                             R"("rolled_back"}])",
                             true),
                  100);
  add_refused(report, 200, 2, {}, "too big");
  REQUIRE(report.rows.size() == 3); // the refused call's items are not in `items`
  CHECK(report.rows[2].index == 100);
  CHECK(report.totals.succeeded == 1);
  CHECK(report.totals.failed == 1);
  CHECK(report.totals.rolled_back == 1);
  CHECK(report.job_failed);
  CHECK(report.failures == std::vector<std::string>{"too big"});
  auto table = render_report(report);
  CHECK(table.find("no vhost") != std::string::npos);
  CHECK(table.find("3 items: 1 succeeded, 1 failed, 1 rolled back, 0 skipped") !=
        std::string::npos);
  CHECK(report_json(report).find(R"("index":100,"resource":"c")") != std::string::npos);
}

TEST_CASE(
    "batch report: a refused call's items are skipped rows named from the items") {
  batch_report report;
  std::vector<std::string> items{R"({"name":"q1"})", R"("q2")", R"({"body":"x"})"};
  add_refused(report, 0, 3, items, "writes are disabled");
  REQUIRE(report.rows.size() == 3);
  CHECK(report.rows[0].resource == "q1");
  CHECK(report.rows[1].resource == "q2");
  CHECK(report.rows[2].resource.empty());
  CHECK(report.rows[1].status == "skipped");
  CHECK(report.totals.skipped == 3);
  batch_report broken;
  add_call_result(broken, tool_catalog::failure("the broker is down"), 0);
  CHECK(broken.rows.empty());
  CHECK(broken.failures == std::vector<std::string>{"the broker is down"});
}

TEST_CASE("progress bar: filled in proportion, counts aligned") {
  CHECK(progress_bar(0, 10, 10) == "[          ]  0/10");
  CHECK(progress_bar(5, 10, 10) == "[#####     ]  5/10");
  CHECK(progress_bar(10, 10, 10) == "[##########] 10/10");
  CHECK(progress_bar(12, 10, 4) == "[####] 12/10");
  CHECK(progress_bar(0, 0, 4) == "[####] 0/0");
}
