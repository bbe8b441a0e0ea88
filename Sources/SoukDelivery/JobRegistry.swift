import SoukCore
import SoukDatabase

/// Does one job's work. Handlers must be idempotent: a job whose worker died after the work but
/// before recording it runs again.
public typealias JobHandler = @Sendable (Job) async throws -> Void

/// Which handler runs each job kind. `souk serve` and `souk jobs run` use the same registry.
public struct JobRegistry: Sendable {
    private var handlers: [String: JobHandler] = [:]

    public init() { ConstructionCounts.record("JobRegistry") }

    /// Registers (or replaces) the handler of `kind`.
    public mutating func register(_ kind: String, _ handler: @escaping JobHandler) {
        handlers[kind] = handler
    }

    public func handler(for kind: String) -> JobHandler? { handlers[kind] }

    public var kinds: [String] { handlers.keys.sorted() }

    /// The handlers every Souk process has: `noop`, which succeeds without doing anything
    /// (for checking that the queue runs).
    public static var builtIn: JobRegistry {
        var registry = JobRegistry()
        registry.register("noop") { _ in }
        return registry
    }
}

/// A job whose kind no handler is registered for (a typo, or a job from a newer souk).
public struct UnknownJobKind: Error, CustomStringConvertible {
    public var kind: String
    public var description: String { "no handler is registered for job kind '\(kind)'" }
}
