// Helpers shared by the retire-cluster-* client tools: --require parsing, results and task
// info as rc::Value, value lookups, human formatting (tables, durations, times) and JSON output.
// No option parsing and no sockets here beyond building an rc::Client.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include "common/client.hpp"
#include "common/protocol.hpp"
#include "common/result.hpp"
#include "common/task.hpp"
#include "common/value.hpp"

namespace rc::cli {

// Process exit codes shared by the tools.
inline constexpr int kExitOk = 0;
inline constexpr int kExitBroker = 1;     // broker error or broker unreachable
inline constexpr int kExitUsage = 2;      // bad arguments
inline constexpr int kExitIncomplete = 3; // a task did not succeed or did not finish in time

// ------------------------------------------------------------------ requirements
// Applies one "key=value" (the argument of --require) to `req`. Keys: min_cpu_cores,
// min_memory_gb, min_storage_gb, gpu_required, internet_required, required_platform,
// required_role, required_tags (comma-separated; repeated use adds tags), timeout_seconds,
// max_retries. Booleans take true/false/1/0/yes/no. Errors name the key.
[[nodiscard]] Status<std::string> apply_requirement(Requirements& req, std::string_view key_value);
[[nodiscard]] Status<std::string> apply_requirements(Requirements& req, const std::vector<std::string>& items);

// Strict scalar parsing for option values (whole input, no trailing characters).
[[nodiscard]] Result<std::int64_t, std::string> parse_int(std::string_view text);
[[nodiscard]] Result<double, std::string> parse_double(std::string_view text);
[[nodiscard]] Result<bool, std::string> parse_bool(std::string_view text);

// ------------------------------------------------------------------ values
// msgpack bytes as a Value: nil when empty, the decoded value, or (when not decodable) the
// base64 text of the raw bytes.
[[nodiscard]] Value bytes_to_value(const Bytes& msgpack);
// Keys: task_id, status, result_data, error_message, device_id, attempts, execution_time,
// created_at, started_at, completed_at, attempt_errors [{attempt, status, error, device_id}].
[[nodiscard]] Value result_to_value(const TaskResult& r);
// Keys: task_id, task_type, status, priority, attempts, device_id, reason, created_at, updated_at.
[[nodiscard]] Value task_info_to_value(const proto::TaskInfo& t);

// Nested map lookup: lookup(v, {"cluster_stats", "online_devices"}); nullptr when absent.
[[nodiscard]] const Value* lookup(const Value& v, std::initializer_list<std::string_view> path);
// Typed lookups with a fallback for absent or mistyped entries.
[[nodiscard]] double num_at(const Value& v, std::initializer_list<std::string_view> path, double fallback = 0);
[[nodiscard]] std::int64_t int_at(const Value& v, std::initializer_list<std::string_view> path,
                                  std::int64_t fallback = 0);
[[nodiscard]] std::string str_at(const Value& v, std::initializer_list<std::string_view> path,
                                 std::string_view fallback = "");
// A scalar for people: strings as-is, nil as "-", numbers compactly, arrays of scalars joined
// with ", ", other containers as compact JSON.
[[nodiscard]] std::string display(const Value& v);

// ------------------------------------------------------------------ formatting
[[nodiscard]] std::string fixed(double x, int decimals);     // fixed(0.625, 1) == "0.6"
[[nodiscard]] std::string format_duration(double seconds);  // "850ms", "12.3s", "5m 03s", "2h 05m"
[[nodiscard]] std::string format_time(double unix_seconds); // local "YYYY-MM-DD HH:MM:SS", 0 -> "-"
// "2024-05-01 12:00:00 (12.3s ago)"; "-" for 0.
[[nodiscard]] std::string format_time_ago(double unix_seconds);

// Aligned text columns. Columns whose cells are all numeric-looking are right-aligned.
class Table {
public:
    explicit Table(std::vector<std::string> headers);
    void add_row(std::vector<std::string> cells); // short rows are padded with ""
    [[nodiscard]] bool empty() const { return rows_.empty(); }
    void print(std::ostream& out, std::string_view indent = "") const;

private:
    std::vector<std::string> headers_;
    std::vector<std::vector<std::string>> rows_;
};

// "key    value" lines with the keys padded to one width; continuation lines of multi-line
// values are indented to the value column.
using Fields = std::vector<std::pair<std::string, std::string>>;
void print_fields(std::ostream& out, const Fields& fields, std::string_view indent = "");

// The outcome fields of a finished task: Result (JSON, pretty when long), Error, Execution
// time, Started, Completed. Empty ones are left out.
[[nodiscard]] Fields result_fields(const TaskResult& r);
// A blank line, "Attempt errors:" and one line per failed attempt; nothing when there were none.
void print_attempt_errors(std::ostream& out, const TaskResult& r);

// Pretty JSON (2-space indent) and a newline on stdout.
void print_json(const Value& v);

// ------------------------------------------------------------------ client
// A client for HOST[:PORT] (default port 8080) with the given per-request timeout. An
// unparsable address or a non-positive timeout is an error for the usage message.
[[nodiscard]] Result<Client, std::string> make_client(const std::string& address, std::int64_t timeout_ms);
// Prints "<prog>: <describe()>" on stderr and returns kExitBroker.
int report(std::string_view prog, const ClientError& e);

} // namespace rc::cli
