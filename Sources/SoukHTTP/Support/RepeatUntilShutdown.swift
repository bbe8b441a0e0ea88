import ServiceLifecycle

/// The loop of a Service beside the server that does its work every `interval` (written views,
/// settled sales): until the server stops, then once more, so what it holds is not lost at a
/// clean stop.
func repeatUntilShutdown(every interval: Duration, _ work: () async -> Void) async {
    while !Task.isCancelled && !Task.isShuttingDownGracefully {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        await work()
    }
    await work()
}
