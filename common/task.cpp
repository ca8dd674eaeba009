// Names, parsing, validation and the transition table of the task model.
#include "task.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <random>

namespace rc {

std::string_view to_string(Priority p) {
    switch (p) {
    case Priority::Low: return "low";
    case Priority::Normal: return "normal";
    case Priority::High: return "high";
    case Priority::Urgent: return "urgent";
    }
    return "?";
}

static std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::optional<Priority> parse_priority(std::string_view s) {
    auto l = lower(s);
    if (l == "low" || l == "0") return Priority::Low;
    if (l == "normal" || l == "1") return Priority::Normal;
    if (l == "high" || l == "2") return Priority::High;
    if (l == "urgent" || l == "3") return Priority::Urgent;
    return std::nullopt;
}

static constexpr std::array<std::string_view, kTaskStatusCount> kStatusNames = {
    "pending", "queued", "assigned", "running", "success", "failed", "timeout", "cancelled"};

std::string_view to_string(TaskStatus s) { return kStatusNames[static_cast<size_t>(s)]; }

std::optional<TaskStatus> parse_task_status(std::string_view s) {
    auto l = lower(s);
    for (size_t i = 0; i < kStatusNames.size(); ++i)
        if (kStatusNames[i] == l) return static_cast<TaskStatus>(i);
    return std::nullopt;
}

bool is_terminal(TaskStatus s) {
    return s == TaskStatus::Success || s == TaskStatus::Failed || s == TaskStatus::Timeout ||
           s == TaskStatus::Cancelled;
}

std::string_view to_string(TaskEvent e) {
    switch (e) {
    case TaskEvent::Accept: return "accept";
    case TaskEvent::Assign: return "assign";
    case TaskEvent::Start: return "start";
    case TaskEvent::Succeed: return "succeed";
    case TaskEvent::Fail: return "fail";
    case TaskEvent::TimeOut: return "timeout";
    case TaskEvent::Requeue: return "requeue";
    case TaskEvent::Cancel: return "cancel";
    }
    return "?";
}

std::optional<TaskStatus> next_state(TaskStatus s, TaskEvent e) {
    using S = TaskStatus;
    using E = TaskEvent;
    struct Row {
        S from;
        E event;
        S to;
    };
    // The whole lifecycle. Anything not listed is illegal.
    static constexpr Row kTable[] = {
        {S::Pending, E::Accept, S::Queued},     {S::Pending, E::Cancel, S::Cancelled},
        {S::Queued, E::Assign, S::Assigned},    {S::Queued, E::Cancel, S::Cancelled},
        {S::Assigned, E::Start, S::Running},    {S::Assigned, E::Succeed, S::Success},
        {S::Assigned, E::Fail, S::Failed},      {S::Assigned, E::TimeOut, S::Timeout},
        {S::Assigned, E::Requeue, S::Queued},   {S::Assigned, E::Cancel, S::Cancelled},
        {S::Running, E::Succeed, S::Success},   {S::Running, E::Fail, S::Failed},
        {S::Running, E::TimeOut, S::Timeout},   {S::Running, E::Requeue, S::Queued},
        {S::Running, E::Cancel, S::Cancelled},
    };
    for (const auto& r : kTable)
        if (r.from == s && r.event == e) return r.to;
    return std::nullopt;
}

static bool valid_name(std::string_view s, size_t max) {
    if (s.empty() || s.size() > max) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
               c == ':';
    });
}

Status<TaskError> validate(const TaskSpec& t) {
    if (!valid_name(t.task_type, 128))
        return err(TaskError{"invalid_task", "task_type must be 1-128 characters of [A-Za-z0-9_.:-]"});
    if (!t.task_id.empty() && !valid_name(t.task_id.value, 128))
        return err(TaskError{"invalid_task", "task_id must be 1-128 characters of [A-Za-z0-9_.:-]"});
    const auto& r = t.requirements;
    if (r.min_cpu_cores < 0 || r.min_memory_gb < 0 || r.min_storage_gb < 0)
        return err(TaskError{"invalid_requirements", "minimum resources must not be negative"});
    if (!(r.timeout_seconds > 0) || r.timeout_seconds > 30 * 24 * 3600.0)
        return err(TaskError{"invalid_requirements", "timeout_seconds must be in (0, 2592000]"});
    if (r.max_retries < 0 || r.max_retries > 100)
        return err(TaskError{"invalid_requirements", "max_retries must be in [0, 100]"});
    static constexpr std::string_view kPlatforms[] = {"linux", "android", "darwin", "windows"};
    if (!r.required_platform.empty() &&
        std::find(std::begin(kPlatforms), std::end(kPlatforms), r.required_platform) ==
            std::end(kPlatforms))
        return err(TaskError{"invalid_requirements",
                             "required_platform must be one of linux, android, darwin, windows"});
    static constexpr std::string_view kRoles[] = {"worker", "compute", "storage", "mobile"};
    if (!r.required_role.empty() &&
        std::find(std::begin(kRoles), std::end(kRoles), r.required_role) == std::end(kRoles))
        return err(TaskError{"invalid_requirements",
                             "required_role must be one of worker, compute, storage, mobile"});
    for (const auto& tag : r.required_tags)
        if (!valid_name(tag, 64))
            return err(TaskError{"invalid_requirements", "tags must be 1-64 characters of [A-Za-z0-9_.:-]"});
    return Unit{};
}

std::string new_uuid() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t hi = rng(), lo = rng();
    hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL; // version 4
    lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL; // variant 10
    // 8-4-4-4-12 hex digits, formatted by hand: this runs for every submitted task.
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(36, '-');
    int pos = 0;
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) ++pos;
        std::uint64_t word = i < 16 ? hi : lo;
        int shift = 60 - 4 * (i % 16);
        out[static_cast<size_t>(pos++)] = kHex[(word >> shift) & 0xF];
    }
    return out;
}

} // namespace rc
