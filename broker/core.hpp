// BrokerCore: the broker's decisions. It takes typed inbound messages and timer ticks
// with an injected time, and appends typed outbound messages to its outbox. It owns the
// registry, the task table, the scheduler, leases, retries, result waiters and stats.
// It never touches a socket or reads a clock.
#pragma once

#include <cstdint>
#include <map>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/codec.hpp"
#include "common/protocol.hpp"
#include "config.hpp"
#include "registry.hpp"
#include "scheduler.hpp"
#include "store.hpp"
#include "task_table.hpp"

namespace rc::broker {

struct Counters {
    std::uint64_t submitted = 0, dispatched = 0, succeeded = 0, failed = 0, retried = 0,
                  timed_out = 0, cancelled = 0, stale_results = 0, requeued_device_lost = 0;
    std::uint64_t recovered = 0, reconciled = 0, refused_not_durable = 0;
    std::uint64_t malformed = 0, unknown_command = 0, bad_body = 0, too_large = 0,
                  invalid_task = 0, protocol_violations = 0, unknown_worker = 0;
};

class BrokerCore {
public:
    BrokerCore(BrokerConfig cfg, std::uint64_t epoch, Now now);

    // --- events in
    void on_message(proto::Inbound in, Now now);
    void on_decode_error(const RoutingId& from, const codec::DecodeError& e, Now now);
    void on_too_large(const RoutingId& from, std::size_t size, Now now);
    void on_unroutable(const RoutingId& to, Now now); // a send failed: peer is gone
    // Timers: leases, retry backoff, result waits, heartbeats, liveness, retention.
    void on_tick(Now now);
    // Deferred work at the end of a loop pass: dispatch, acknowledgements.
    void before_sleep(Now now);
    // Stop: tell every worker, and answer every parked result wait with what is known.
    void shutdown(Now now);

    // --- durability (no-ops unless cfg.durable)
    // The changes made since the last call, as one batch for the mirror; null when none.
    std::unique_ptr<JournalBatch> take_journal(Now now);
    // The mirror wrote batches up to r.durable_seq, or went down.
    void on_mirror_report(const MirrorReport& r, Now now);
    // Rebuilds state read from the store at start-up, before any message is handled.
    void recover(std::vector<RecoveredTask> tasks, Now now);

    // --- effects out
    [[nodiscard]] std::vector<proto::Outbound>& outbox() { return outbox_; }
    // The nearest instant at which on_tick() has work to do.
    [[nodiscard]] TimePoint next_deadline() const;

    // --- inspection (tests, stats)
    [[nodiscard]] std::uint64_t epoch() const { return epoch_; }
    [[nodiscard]] const Counters& counters() const { return counters_; }
    [[nodiscard]] const Registry& registry() const { return registry_; }
    [[nodiscard]] const TaskRecord* task(const std::string& id) const;
    [[nodiscard]] std::string queued_reason(const TaskRecord& t) const;
    [[nodiscard]] Value stats_value(Now now) const;
    [[nodiscard]] Value device_value(DevIdx d, Now now) const;

private:
    // worker side (handlers_worker.cpp)
    void on_worker(const RoutingId& from, proto::WorkerMsg& msg, Now now);
    void on_ready(const RoutingId& from, proto::Ready& m, Now now);
    void on_heartbeat(DevIdx d, const proto::Heartbeat& m, Now now);
    void on_result(DevIdx d, proto::WorkResult& m, Now now);
    void on_started(DevIdx d, const proto::Started& m, Now now);
    void drop_worker(DevIdx d, DropReason why, Now now);
    void send_worker(DevIdx d, proto::BrokerToWorker msg, Now now);
    void disconnect_peer(const RoutingId& to, std::string reason, std::string message);
    void apply_result(TaskRef ref, TaskRecord& t, WorkerRecord& w, proto::WorkResult& m, Now now);
    void release_lease(DevIdx d, LeaseId l, Now now); // frees the slot; requeues a live lease at once

    // client side (handlers_client.cpp)
    void on_client(const RoutingId& from, proto::ClientRequest& msg, Now now);
    void on_submit(const RoutingId& from, proto::SubmitReq& m, Now now);
    void on_status(const RoutingId& from, const proto::StatusReq& m, Now now);
    void on_get_result(const RoutingId& from, proto::ResultReq& m, Now now);
    void on_cancel(const RoutingId& from, const proto::CancelReq& m, Now now);
    void reply(const RoutingId& to, proto::ClientReply msg);
    void reply_error(const RoutingId& to, std::uint64_t req, proto::ErrorCode code, std::string message);

    // task lifecycle (core.cpp)
    bool transition(TaskRecord& t, TaskEvent e, Now now);
    void enqueue(TaskRef ref, TaskRecord& t);
    void dispatch(Now now);
    // An attempt ended without success: retry (with backoff unless `at_once`) or finish.
    void attempt_failed(TaskRef ref, TaskRecord& t, TaskStatus final_status, std::string status_word,
                        std::string error, bool at_once, Now now);
    void finish(TaskRef ref, TaskRecord& t, TaskEvent e, Now now);
    void expire_leases(Now now);
    void release_backoffs(Now now);
    void expire_waiters(Now now);
    void purge_results(Now now);
    void check_workers(Now now);
    [[nodiscard]] TaskResult result_of(const TaskRecord& t) const;
    [[nodiscard]] proto::TaskInfo info_of(const TaskRecord& t) const;

    struct Lease {
        TaskRef task;
        DevIdx device = 0;
        TimePoint deadline{};
        bool live = true;    // false once expired or cancelled: still holds the slot
        bool started = false; // STARTED re-armed the deadline (once)
        std::uint64_t orig_epoch = 0, orig_lease = 0; // a lease claimed after a restart
    };
    // The CANCEL for `l` (id `id`), naming the lease as the worker knows it.
    [[nodiscard]] proto::CancelLease cancel_msg(const Lease& l, std::uint64_t id, const TaskId& task, std::string reason) const {
        if (l.orig_epoch) return proto::CancelLease{task, LeaseId{l.orig_lease}, std::move(reason), l.orig_epoch};
        return proto::CancelLease{task, LeaseId{id}, std::move(reason), 0};
    }
    struct Waiter {
        RoutingId client;
        std::uint64_t req = 0;
        std::vector<TaskId> ids;
        std::vector<std::optional<TaskRef>> refs; // ids resolved once; nullopt = unknown
        bool any = false;
        std::size_t remaining = 0;
        TimePoint deadline{};
        bool submit = false;          // a SUBMIT with wait_ms: answer with a SubmitReply
        std::uint64_t durable_seq = 0; // with durability: not before this batch is written
    };
    void notify_waiters(TaskRecord& t);
    // Parks wait `wid` on every unfinished task it names.
    void park(std::uint64_t wid, Waiter& w);
    void answer_waiter(std::uint64_t wid);

    static constexpr std::uint32_t kMaxWaitMs = 600'000;
    static constexpr std::size_t kMaxWaiters = 100'000;

    BrokerConfig cfg_;
    std::uint64_t epoch_;
    Registry registry_;
    TaskTable tasks_;
    Scheduler scheduler_;
    Counters counters_;
    std::vector<proto::Outbound> outbox_;

    std::uint64_t next_seq_ = 1;
    std::uint64_t next_lease_ = 1;
    std::unordered_map<std::uint64_t, Lease> leases_;
    using Timed = std::pair<TimePoint, std::uint64_t>;
    using MinHeap = std::priority_queue<Timed, std::vector<Timed>, std::greater<>>;
    MinHeap lease_deadlines_;   // (deadline, lease id)
    std::multimap<TimePoint, TaskRef> backoff_;
    std::size_t backoff_count_ = 0;
    std::unordered_map<std::uint64_t, Waiter> waiters_;
    MinHeap waiter_deadlines_;
    std::uint64_t next_waiter_ = 1;
    std::deque<std::pair<TimePoint, TaskRef>> retention_; // terminal tasks, completion order
    std::size_t active_ = 0; // non-terminal tasks
    std::array<std::size_t, kTaskStatusCount> by_status_{};
    std::array<std::size_t, kPriorityLevels> queued_by_priority_{};
    TimePoint next_check_{};
    TimePoint started_{};
    double started_wall_ = 0;
    std::deque<std::pair<TimePoint, std::uint64_t>> throughput_; // (second, completions)
    std::set<DevIdx> dirty_acks_;
    std::unordered_map<DevIdx, std::vector<proto::TaskAssign>> outgoing_tasks_; // this pass's dispatches
    std::vector<DevIdx> outgoing_devices_; // devices with dispatches this pass

    // durability
    void mark_dirty(TaskRef ref, TaskRecord& t);
    [[nodiscard]] JournalOp snapshot(const TaskRecord& t) const;
    void requeue_unclaimed(Now now);
    std::vector<TaskRef> dirty_;
    std::vector<std::string> deleted_;
    std::uint64_t journal_seq_ = 0; // last batch handed out
    std::uint64_t durable_seq_ = 0; // last batch the mirror confirmed
    std::deque<std::pair<std::uint64_t, proto::Outbound>> held_; // replies waiting for durability
    bool mirror_up_ = true;
    std::string mirror_error_;
    using EpochLease = std::pair<std::uint64_t, std::uint64_t>;
    struct EpochLeaseHash {
        size_t operator()(const EpochLease& k) const noexcept { return std::hash<std::uint64_t>{}(k.first * 31 + k.second); }
    };
    std::unordered_map<EpochLease, TaskRef, EpochLeaseHash> unclaimed_; // recovered in-flight tasks
    std::unordered_map<EpochLease, std::uint64_t, EpochLeaseHash> adopted_; // old lease -> new lease id
    TimePoint recovery_deadline_{};
};

} // namespace rc::broker
