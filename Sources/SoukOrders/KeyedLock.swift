/// Serialises work per key inside this process (one checkout session or refund per order at a
/// time). The database guards correctness across processes; this only spares the provider
/// duplicate calls that its idempotency keys would absorb anyway.
actor KeyedLock {
    private var busy: [String: [CheckedContinuation<Void, Never>]] = [:]

    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        if busy[key] != nil {
            await withCheckedContinuation { busy[key]!.append($0) }
        } else {
            busy[key] = []
        }
        defer { release(key) }
        return try await body()
    }

    private func release(_ key: String) {
        guard var waiters = busy[key] else { return }
        if waiters.isEmpty {
            busy[key] = nil
        } else {
            let next = waiters.removeFirst()
            busy[key] = waiters
            next.resume()
        }
    }
}
