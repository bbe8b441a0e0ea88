import Foundation

/// Counts how often the objects the runtime builds once (payment providers, the job registry)
/// are constructed, within a task that sets `current` (tests). Outside such a task, recording
/// does nothing.
public final class ConstructionCounts: @unchecked Sendable {
    @TaskLocal public static var current: ConstructionCounts?

    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    public init() {}

    /// Counts one construction of `name` in the current task's counter, if any.
    public static func record(_ name: String) {
        guard let counter = current else { return }
        counter.lock.withLock { counter.counts[name, default: 0] += 1 }
    }

    public subscript(name: String) -> Int { lock.withLock { counts[name] ?? 0 } }

    public var all: [String: Int] { lock.withLock { counts } }
}
