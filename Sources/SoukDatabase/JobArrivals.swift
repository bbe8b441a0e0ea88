import GRDB
import Synchronization

/// Wakes an idle job runner when this process commits a new job, so a paid order's fulfilment
/// (and the receipt it queues) starts at once instead of at the runner's next poll. Jobs added by
/// another process (`souk` commands) are still found by the poll.
public final class JobArrivals: TransactionObserver, Sendable {
    /// Set between a job's insert and its transaction's end (the writer's queue only).
    private let inserted = Atomic<Bool>(false)
    private let state = Mutex(State())

    private struct State {
        /// A job arrived while no runner waited: the next wait returns at once.
        var pending = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    init() {}

    public func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        if case .insert(let table) = eventKind { return table == "jobs" }
        return false
    }

    public func databaseDidChange(with event: DatabaseEvent) {
        inserted.store(true, ordering: .relaxed)
    }

    public func databaseDidCommit(_ db: Database) {
        if inserted.exchange(false, ordering: .relaxed) { signal() }
    }

    public func databaseDidRollback(_ db: Database) {
        inserted.store(false, ordering: .relaxed)
    }

    /// Wakes every waiting runner (or the next one to wait).
    func signal() {
        let waiters = state.withLock { state in
            defer { state.waiters = [:] }
            if state.waiters.isEmpty { state.pending = true }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when a job is committed by this process, after `timeout`, or when the task is
    /// cancelled, whichever comes first.
    public func wait(upTo timeout: Duration) async {
        let id = state.withLock { state -> Int? in
            if state.pending {
                state.pending = false
                return nil
            }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return }
        var timer: Task<Void, Never>?
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let arrived = state.withLock { state in
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if arrived {
                    continuation.resume()
                } else if Task.isCancelled {
                    resume(id)
                } else {
                    // Started once the waiter is in place, so the timeout cannot come before it.
                    timer = Task {
                        try? await Task.sleep(for: timeout)
                        self.resume(id)
                    }
                }
            }
        } onCancel: {
            self.resume(id)
        }
        timer?.cancel()
    }

    private func resume(_ id: Int) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}
