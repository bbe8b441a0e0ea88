import Foundation
import Logging
import ServiceLifecycle
import SoukCore
import SoukDatabase

/// Fans new notifications out to the live streams of one server process. While anyone is
/// subscribed it reads `notifications` by event id (`seq`) every `pollInterval`, so a notice
/// written by any process — a `souk` CLI command, another server's job runner — reaches the
/// stream within that interval. Each subscriber has a bounded buffer: one that falls behind is
/// ended (the client resumes with Last-Event-ID) instead of holding memory without limit.
public actor NotificationHub: Service {
    /// What a stream receives.
    public enum Event: Sendable, Equatable {
        case notification(UserNotification)
        /// Time for a keep-alive comment.
        case heartbeat
    }

    public struct TooManyStreams: Error, Sendable {
        public let limit: Int
    }

    /// A live feed of one user's events, and where live delivery started (the event id).
    public struct Subscription: Sendable {
        public let id: UUID
        public let events: AsyncStream<Event>
        public let startedAfter: Int64
    }

    private struct Subscriber {
        let userID: String
        let continuation: AsyncStream<Event>.Continuation
        /// When the stream is ended however lively it is (`maxLifetime`).
        let endsAt: ContinuousClock.Instant
    }

    let database: AppDatabase
    let pollInterval: Duration
    let heartbeatInterval: Duration
    let streamsPerUser: Int
    let maxLifetime: Duration
    let bufferLimit: Int
    let logger: Logger
    private var subscribers: [UUID: Subscriber] = [:]
    private var lastSeq: Int64 = 0
    private var poller: Task<Void, Never>?
    private var stopped = false

    public init(
        database: AppDatabase, heartbeatInterval: Duration, streamsPerUser: Int, maxLifetime: Duration = .seconds(1800),
        pollInterval: Duration = .milliseconds(200), bufferLimit: Int = 256,
        logger: Logger = Logger(label: "souk.notifications")
    ) {
        self.database = database
        self.heartbeatInterval = heartbeatInterval
        self.streamsPerUser = streamsPerUser
        self.maxLifetime = maxLifetime
        self.pollInterval = pollInterval
        self.bufferLimit = bufferLimit
        self.logger = logger
    }

    /// Starts a feed of `userID`'s new notifications. Throws `TooManyStreams` past the per-user cap.
    public func subscribe(userID: String) async throws -> Subscription {
        guard subscribers.values.filter({ $0.userID == userID }).count < streamsPerUser else {
            throw TooManyStreams(limit: streamsPerUser)
        }
        if poller == nil {
            lastSeq = try await database.lastNotificationSeq()
        }
        let id = UUID()
        let (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingOldest(bufferLimit))
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.remove(id) }
        }
        if stopped {
            continuation.finish()
        } else {
            subscribers[id] = Subscriber(
                userID: userID, continuation: continuation, endsAt: ContinuousClock.now.advanced(by: maxLifetime))
            startPolling()
        }
        return Subscription(id: id, events: events, startedAfter: lastSeq)
    }

    /// How many streams are open (for tests and metrics).
    public var streamCount: Int { subscribers.count }

    /// Ends a subscription whose connection is gone (its place counts against the user's cap
    /// until then).
    public func end(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.continuation.finish()
        remove(id)
    }

    private func remove(_ id: UUID) {
        subscribers[id] = nil
        if subscribers.isEmpty {
            poller?.cancel()
            poller = nil
        }
    }

    private func startPolling() {
        guard poller == nil else { return }
        poller = Task { [pollInterval, heartbeatInterval] in
            let clock = ContinuousClock()
            var nextHeartbeat = clock.now.advanced(by: heartbeatInterval)
            while !Task.isCancelled {
                await self.poll()
                await self.endExpired(now: clock.now)
                if clock.now >= nextHeartbeat {
                    self.broadcast(.heartbeat)
                    nextHeartbeat = clock.now.advanced(by: heartbeatInterval)
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    private func poll() async {
        do {
            while true {
                let batch = try await database.notifications(after: lastSeq, limit: 500)
                for notification in batch {
                    lastSeq = max(lastSeq, notification.seq)
                    for (id, subscriber) in subscribers where subscriber.userID == notification.userID {
                        deliver(.notification(notification), to: id, subscriber)
                    }
                }
                if batch.count < 500 { return }
            }
        } catch {
            logger.warning(
                "could not read new notifications for the live streams; trying again",
                metadata: ["after_seq": "\(lastSeq)", "error": "\(error)"])
        }
    }

    /// Ends the streams that reached their lifetime; their clients reconnect and resume.
    private func endExpired(now: ContinuousClock.Instant) {
        for (id, subscriber) in subscribers where subscriber.endsAt <= now {
            subscribers[id] = nil
            subscriber.continuation.finish()
        }
    }

    private func broadcast(_ event: Event) {
        for (id, subscriber) in subscribers { deliver(event, to: id, subscriber) }
    }

    private func deliver(_ event: Event, to id: UUID, _ subscriber: Subscriber) {
        if case .dropped = subscriber.continuation.yield(event) {
            // Too far behind: end it; the client reconnects and replays from its last event id.
            logger.info("a notification stream fell behind and was ended", metadata: ["user": "\(subscriber.userID)"])
            subscribers[id] = nil
            subscriber.continuation.finish()
        }
    }

    /// Ends every stream when the server shuts down (an open stream would hold shutdown up).
    private func stop() {
        stopped = true
        poller?.cancel()
        poller = nil
        let open = subscribers.values
        subscribers = [:]
        for subscriber in open { subscriber.continuation.finish() }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        stop()
    }
}
