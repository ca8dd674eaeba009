// The broker's durability seam: the journal of task changes the core emits, what a
// recovery hands back to it, and the mirror's status. Plain data; the Redis mirror
// (redis_mirror.cpp) is the only code that turns it into storage commands.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/task.hpp"

namespace rc::broker {

// One change to one task, already encoded (codec::encode_spec / encode_result).
struct JournalOp {
    enum class Kind : std::uint8_t { Upsert, Delete };
    Kind kind = Kind::Upsert;
    std::string task_id;
    std::uint64_t order = 0;  // submission order, for recovery (Upsert with spec only)
    Bytes spec;               // set the first time a task is written
    Bytes state;              // a TaskResult: status, attempts, device, errors, result
    std::string lease;        // "epoch:lease" of the live lease, or empty
    std::int64_t ttl_ms = 0;  // > 0: the record expires (finished tasks)
};

// A batch of ops, flushed once per broker loop pass; `seq` increases by one per batch.
struct JournalBatch {
    std::uint64_t seq = 0;
    std::vector<JournalOp> ops;
};

// A task read back from storage at start-up.
struct RecoveredTask {
    TaskSpec spec;
    TaskResult state;
    std::uint64_t order = 0;
    std::uint64_t lease_epoch = 0; // the lease it held when last written, if any
    std::uint64_t lease = 0;
};

// What the mirror reports to the core.
struct MirrorReport {
    bool up = true;
    std::uint64_t durable_seq = 0; // every batch up to this one is written
    std::string error;             // why it is down
};

enum class DegradedPolicy : std::uint8_t { Refuse, Accept };

} // namespace rc::broker
