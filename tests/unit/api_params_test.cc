// Method parameters are decoded strictly: each error path names its field.
#include <gtest/gtest.h>

#include <csignal>

#include "api/params.h"

namespace bulkhead::api {
namespace {

using nlohmann::json;

template <typename T>
std::string field_of(const ApiResult<T>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) {
    return "";
  }
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidRequest);
  const auto& d = r.error().details;
  EXPECT_TRUE(d.is_array() && d.size() == 1) << d.dump();
  // The human message starts with the field too.
  std::string field = d.at(0).value("field", "");
  EXPECT_EQ(r.error().message.rfind(field + ": ", 0), 0U) << r.error().message;
  return field;
}

TEST(ApiParams, NoParamsRefusesAnyKey) {
  EXPECT_TRUE(parse_no_params(json::object()).ok());
  EXPECT_EQ(field_of(parse_no_params(json{{"verbose", true}})), "params.verbose");
}

TEST(ApiParams, Ps) {
  auto all = parse_ps_params(json::object());
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->tenant.has_value());
  auto one = parse_ps_params(json{{"tenant", "a"}});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->tenant, "a");
  auto null_tenant = parse_ps_params(json{{"tenant", nullptr}});
  ASSERT_TRUE(null_tenant.ok());
  EXPECT_FALSE(null_tenant->tenant.has_value());
  EXPECT_EQ(field_of(parse_ps_params(json{{"tenant", 3}})), "params.tenant");
  EXPECT_EQ(field_of(parse_ps_params(json{{"tenant", ""}})), "params.tenant");
  EXPECT_EQ(field_of(parse_ps_params(json{{"tenants", "a"}})), "params.tenants");
}

TEST(ApiParams, RunFull) {
  auto r = parse_run_params(json{{"tenant", "a"},
                                 {"name", "job"},
                                 {"argv", {"sh", "-c", "exit 3"}},
                                 {"env", {{"A", "1"}, {"B", ""}}},
                                 {"cwd", "/tmp"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tenant, "a");
  EXPECT_EQ(r->name, "job");
  EXPECT_EQ(r->argv, (std::vector<std::string>{"sh", "-c", "exit 3"}));
  EXPECT_EQ(r->env.at("B"), "");
  EXPECT_EQ(r->cwd, "/tmp");
}

TEST(ApiParams, RunMinimal) {
  auto r = parse_run_params(json{{"tenant", "a"}, {"argv", {"true"}}});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->name.empty());
  EXPECT_TRUE(r->env.empty());
  EXPECT_FALSE(r->cwd.has_value());
  EXPECT_FALSE(r->tty);
}

TEST(ApiParams, RunWithATerminal) {
  auto sized = parse_run_params(json{{"tenant", "a"},
                                     {"argv", {"sh"}},
                                     {"tty", true},
                                     {"tty_size", {{"rows", 24}, {"cols", 65535}}}});
  ASSERT_TRUE(sized.ok());
  EXPECT_TRUE(sized->tty);
  EXPECT_EQ(sized->tty_size.rows, 24);
  EXPECT_EQ(sized->tty_size.cols, 65535);
  auto unsized = parse_run_params(json{{"tenant", "a"}, {"argv", {"sh"}}, {"tty", true}});
  ASSERT_TRUE(unsized.ok());
  EXPECT_TRUE(unsized->tty);
  EXPECT_EQ(unsized->tty_size.rows, 0);
  EXPECT_EQ(unsized->tty_size.cols, 0);
}

struct BadRun {
  json params;
  const char* field;
};

TEST(ApiParams, RunErrorsNameTheField) {
  const json argv = {"true"};
  const BadRun cases[] = {
      {json{{"argv", argv}}, "params.tenant"},
      {json{{"tenant", 1}, {"argv", argv}}, "params.tenant"},
      {json{{"tenant", "a"}}, "params.argv"},
      {json{{"tenant", "a"}, {"argv", "true"}}, "params.argv"},
      {json{{"tenant", "a"}, {"argv", json::array()}}, "params.argv"},
      {json{{"tenant", "a"}, {"argv", {"true", 3}}}, "params.argv[1]"},
      {json{{"tenant", "a"}, {"argv", {""}}}, "params.argv[0]"},
      {json{{"tenant", "a"}, {"argv", {std::string("a\0b", 3)}}}, "params.argv[0]"},
      {json{{"tenant", "a"}, {"argv", argv}, {"env", {"A=1"}}}, "params.env"},
      {json{{"tenant", "a"}, {"argv", argv}, {"env", {{"A", 1}}}}, "params.env.A"},
      {json{{"tenant", "a"}, {"argv", argv}, {"env", {{"A=B", "1"}}}}, "params.env.A=B"},
      {json{{"tenant", "a"}, {"argv", argv}, {"env", {{"", "1"}}}}, "params.env."},
      {json{{"tenant", "a"}, {"argv", argv}, {"cwd", "relative"}}, "params.cwd"},
      {json{{"tenant", "a"}, {"argv", argv}, {"cwd", 5}}, "params.cwd"},
      {json{{"tenant", "a"}, {"argv", argv}, {"name", ""}}, "params.name"},
      {json{{"tenant", "a"}, {"argv", argv}, {"stdin", "x"}}, "params.stdin"},
      {json{{"tenant", "a"}, {"argv", argv}, {"tty", "yes"}}, "params.tty"},
      {json{{"tenant", "a"}, {"argv", argv}, {"tty_size", {{"rows", 1}, {"cols", 1}}}},
       "params.tty_size"},
      {json{{"tenant", "a"},
            {"argv", argv},
            {"tty", false},
            {"tty_size", {{"rows", 1}, {"cols", 1}}}},
       "params.tty_size"},
      {json{{"tenant", "a"}, {"argv", argv}, {"tty", true}, {"tty_size", {24, 80}}},
       "params.tty_size"},
      {json{{"tenant", "a"}, {"argv", argv}, {"tty", true}, {"tty_size", {{"rows", 24}}}},
       "params.tty_size.cols"},
      {json{{"tenant", "a"},
            {"argv", argv},
            {"tty", true},
            {"tty_size", {{"rows", -1}, {"cols", 80}}}},
       "params.tty_size.rows"},
      {json{{"tenant", "a"},
            {"argv", argv},
            {"tty", true},
            {"tty_size", {{"rows", 24}, {"cols", 80.5}}}},
       "params.tty_size.cols"},
      {json{{"tenant", "a"},
            {"argv", argv},
            {"tty", true},
            {"tty_size", {{"rows", 24}, {"cols", 80}, {"x", 0}}}},
       "params.tty_size.x"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(field_of(parse_run_params(c.params)), c.field) << c.params.dump();
  }
}

TEST(ApiParams, UnknownKeyMessageListsTheKnownOnes) {
  auto r = parse_stop_params(json{{"tenant", "a"}, {"workload", "w"}, {"force", true}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("tenant"), std::string::npos);
  EXPECT_NE(r.error().message.find("workload"), std::string::npos);
}

TEST(ApiParams, Signal) {
  auto by_name = parse_signal_params(json{{"tenant", "a"}, {"workload", "w"}, {"signal", "INT"}});
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->signal, SIGINT);
  auto by_number = parse_signal_params(json{{"tenant", "a"}, {"workload", "w"}, {"signal", 9}});
  ASSERT_TRUE(by_number.ok());
  EXPECT_EQ(by_number->signal, SIGKILL);
  for (const json& bad : {json("SIGNOPE"), json(0), json(-1), json(1000), json(true), json(2.5)}) {
    EXPECT_EQ(
        field_of(parse_signal_params(json{{"tenant", "a"}, {"workload", "w"}, {"signal", bad}})),
        "params.signal")
        << bad.dump();
  }
  EXPECT_EQ(field_of(parse_signal_params(json{{"tenant", "a"}, {"signal", 9}})), "params.workload");
}

TEST(ApiParams, Stop) {
  EXPECT_TRUE(parse_stop_params(json{{"tenant", "a"}, {"workload", "w"}}).ok());
  EXPECT_EQ(field_of(parse_stop_params(json{{"workload", "w"}})), "params.tenant");
  EXPECT_EQ(field_of(parse_stop_params(json{{"tenant", "a"}, {"workload", json::array()}})),
            "params.workload");
}

TEST(ApiParams, Check) {
  auto c = parse_check_params(json{{"content", "version: 1\n"}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->name, "profile");
  EXPECT_EQ(field_of(parse_check_params(json::object())), "params.content");
  EXPECT_EQ(field_of(parse_check_params(json{{"content", "x"}, {"path", "/etc/shadow"}})),
            "params.path");
}

TEST(ApiParams, SignalNames) {
  EXPECT_EQ(parse_signal("SIGTERM"), SIGTERM);
  EXPECT_EQ(parse_signal("term"), SIGTERM);
  EXPECT_EQ(parse_signal("sigHup"), SIGHUP);
  EXPECT_EQ(parse_signal("28"), SIGWINCH);
  EXPECT_EQ(parse_signal("WINCH"), SIGWINCH);
  EXPECT_FALSE(parse_signal("").has_value());
  EXPECT_FALSE(parse_signal("0").has_value());
  EXPECT_FALSE(parse_signal("99999999999").has_value());
  EXPECT_FALSE(parse_signal("SIG").has_value());
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(parse_signal(signal_name(SIGQUIT)), SIGQUIT);
}

}  // namespace
}  // namespace bulkhead::api
