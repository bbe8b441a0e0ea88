import Crypto
import Foundation
import SoukCore
import SoukDatabase
import SoukMail
import SoukTemplates

/// Single-use sign-in links for e-mails: a random token in the URL, only its SHA-256 stored.
public struct MagicLinks: Sendable {
    let database: AppDatabase
    let baseURL: String
    public static let lifetime: TimeInterval = 7 * 86_400

    public init(database: AppDatabase, baseURL: String) {
        self.database = database
        self.baseURL = baseURL
    }

    /// A sign-in link for `user` into `redirect` (a local path), or nil for an account that may
    /// not sign in by link (an admin: `SessionOrigin`), whose e-mails point to the sign-in page
    /// instead.
    public func issue(for user: User, redirect: String, lifetime: TimeInterval = lifetime) async throws -> String? {
        guard (try? SessionOrigin.link.requireAllowed(for: user)) != nil else { return nil }
        return try await issue(userID: user.id, redirect: redirect, lifetime: lifetime)
    }

    public func issue(userID: String, redirect: String, lifetime: TimeInterval = lifetime) async throws -> String {
        let token = RandomText.base62(length: 43)
        try await database.insertMagicLink(
            tokenHash: TokenDigest.hex(token), userID: userID, redirect: redirect, lifetime: lifetime)
        return "\(baseURL)/magic/\(token)"
    }

    /// A link that sets a new password for `userID` once, within `onDemandLifetime`.
    public func issuePasswordReset(userID: String) async throws -> String {
        let token = RandomText.base62(length: 43)
        try await database.insertPasswordReset(tokenHash: TokenDigest.hex(token), userID: userID, lifetime: Self.onDemandLifetime)
        return "\(baseURL)/password/reset/\(token)"
    }

    /// How long the links a user asks for by e-mail work (a reset link, a sign-in link).
    public static let onDemandLifetime: TimeInterval = 3600
}

/// Writes the store's e-mails from the database's current state.
public struct MailComposer: Sendable {
    let database: AppDatabase
    let links: MagicLinks
    let storeName: String
    /// The store's logo as an absolute URL, or nil (`store.logo_url`).
    let logoURL: String?
    let from: String
    let replyTo: String?
    let host: String
    let unsubscribe: UnsubscribeLinks
    /// The e-mails' HTML templates (`receipt`), built in or from the theme folder.
    let templates: TemplateLibrary

    /// The e-mail templates, built in, each replaced by the theme folder's file of the same name.
    /// Throws when a theme's template does not parse (`souk serve` checks this at start-up).
    public static func templates(themeDirectory: String?) throws -> TemplateLibrary {
        try TemplateLibrary(embedded: EmbeddedAssets.base64, themeDirectory: themeDirectory)
    }

    public init(database: AppDatabase, settings: Settings, serverSecret: [UInt8], themeDirectory: String? = nil) {
        // A theme that does not parse stops `souk serve` before this runs; elsewhere (the CLI)
        // the built-in templates stand in.
        self.templates = (try? Self.templates(themeDirectory: themeDirectory)) ?? (try! Self.templates(themeDirectory: nil))
        self.database = database
        self.links = MagicLinks(database: database, baseURL: settings.publicBaseURL)
        self.unsubscribe = UnsubscribeLinks(serverSecret: serverSecret, baseURL: settings.publicBaseURL)
        self.storeName = settings.store.name
        let logo = settings.store.logoURL
        self.logoURL = logo.isEmpty ? nil : (logo.hasPrefix("/") ? settings.publicBaseURL + logo : logo)
        self.from = Self.sender(settings.mail.from, storeName: settings.store.name)
        self.replyTo = settings.mail.replyTo.isEmpty ? nil : settings.mail.replyTo
        self.host = URL(string: settings.publicBaseURL)?.host ?? "souk.local"
    }

    /// The `From` mailbox: the configured one, named after the store when it carries no name of
    /// its own or the default "Souk" ("Moth Press <store@example.com>").
    static func sender(_ configured: String, storeName: String) -> String {
        let parts = MailAddress.split(configured)
        guard let address = parts?.address else { return configured }
        if let name = parts?.name, !name.isEmpty, name != "Souk" { return configured }
        return "\(storeName) <\(address)>"
    }

    /// The message for a job, or nil when there is nothing to send any more (the order or the
    /// user is gone, or the order was refunded before its receipt went out).
    public func compose(_ job: MailJob) async throws -> MailMessage? {
        switch job.kind {
        case .receipt:
            guard let orderID = job.orderID else { return nil }
            return try await receipt(orderID: orderID)
        case .fileUpdate:
            guard let userID = job.userID, let fileID = job.fileID else { return nil }
            return try await fileUpdate(userID: userID, fileID: fileID)
        case .notification:
            guard let notificationID = job.notificationID else { return nil }
            return try await notification(id: notificationID)
        case .passwordReset:
            guard let userID = job.userID else { return nil }
            return try await passwordReset(userID: userID)
        case .signInLink:
            guard let userID = job.userID else { return nil }
            return try await signInLink(userID: userID)
        case .emailChange:
            guard let userID = job.userID else { return nil }
            return try await emailChange(userID: userID)
        }
    }

    /// To the new address: the link that makes it the account's. Nothing when no change is
    /// pending any more (a newer request replaced this one, or it expired).
    func emailChange(userID: String) async throws -> MailMessage? {
        guard let user = try await database.user(id: userID), !user.disabled else { return nil }
        let token = RandomText.base62(length: 43)
        guard let newEmail = try await database.issueEmailChangeToken(userID: user.id, tokenHash: TokenDigest.hex(token))
        else { return nil }
        return message(
            to: newEmail, kind: "email-change",
            emailChangeContent(name: user.name, oldEmail: user.email, newEmail: newEmail, link: "\(links.baseURL)/account/email/confirm/\(token)"))
    }

    func emailChangeContent(name: String, oldEmail: String, newEmail: String, link: String) -> MailContent {
        MailContent(
            subject: "Confirm your new e-mail address for \(storeName)", greeting: "Hello \(name),",
            paragraphs: ["You asked to use this address (\(newEmail)) for your \(storeName) account instead of \(oldEmail)."],
            action: .init(label: "Confirm this address", url: link),
            notes: [
                "The link works once, within a day. Until then your account keeps its old address.",
                "If you did not ask for this, ignore this e-mail.",
            ])
    }

    /// "Forgot password": the link is made now, when the e-mail is written, since only its hash
    /// is kept. (A retried send makes a new one; an unsent link is known to no one.)
    func passwordReset(userID: String) async throws -> MailMessage? {
        guard let user = try await database.user(id: userID), !user.disabled else { return nil }
        let link = try await links.issuePasswordReset(userID: user.id)
        return message(to: user.email, kind: "password-reset", passwordResetContent(name: user.name, email: user.email, link: link))
    }

    func passwordResetContent(name: String, email: String, link: String) -> MailContent {
        MailContent(
            subject: "Reset your \(storeName) password", greeting: "Hello \(name),",
            paragraphs: ["Someone, hopefully you, asked to reset the password of your \(storeName) account (\(email))."],
            action: .init(label: "Choose a new password", url: link),
            notes: [
                "The link works once, within an hour. Setting a new password signs you out on every other device.",
                "If you did not ask for this, ignore this e-mail: your password stays as it is.",
            ])
    }

    /// "E-mail me a sign-in link": nothing for an account that may not sign in by link (an admin).
    func signInLink(userID: String) async throws -> MailMessage? {
        guard let user = try await database.user(id: userID), !user.disabled,
            let link = try await links.issue(for: user, redirect: "/library", lifetime: MagicLinks.onDemandLifetime)
        else { return nil }
        return message(to: user.email, kind: "sign-in", signInContent(name: user.name, link: link))
    }

    func signInContent(name: String, link: String) -> MailContent {
        MailContent(
            subject: "Your sign-in link for \(storeName)", greeting: "Hello \(name),",
            paragraphs: ["Here is the sign-in link you asked for at \(storeName)."],
            action: .init(label: "Sign in", url: link),
            notes: [
                "It signs you in once, within an hour, and opens your library.",
                "If you did not ask for it, ignore this e-mail: nobody can use the link without your inbox.",
            ])
    }

    /// An e-mail from its content: the plain text, and the HTML from the `message` template
    /// (the theme's when it has one). `messageID` nil: a fresh one (each account e-mail carries
    /// a new link, so none repeats another).
    func message(to address: String, kind: String, _ content: MailContent, messageID: String? = nil) -> MailMessage {
        var values: [String: Any] = [
            "subject": content.subject, "store_name": storeName, "greeting": content.greeting,
            "paragraphs": content.paragraphs, "notes": content.notes,
        ]
        if let heading = content.heading { values["heading"] = heading }
        if let logoURL { values["logo_url"] = logoURL }
        if let action = content.action { values["action"] = ["label": action.label, "url": action.url] }
        if let footer = content.footer {
            values["footer"] = ["why": footer.why, "unsubscribe_url": footer.unsubscribeURL, "choices_url": footer.choicesURL]
        }
        return MailMessage(
            from: from, to: address, replyTo: replyTo, subject: content.subject, text: content.text(storeName: storeName),
            html: templates.render("message", values),
            messageID: messageID ?? "\(kind)-\(UUID().uuidString.lowercased())@\(host)", date: database.clock.now(),
            listUnsubscribe: content.footer?.unsubscribeURL)
    }

    func receipt(orderID: String) async throws -> MailMessage? {
        guard let order = try await database.order(id: orderID), order.status.isPaidUp else { return nil }
        let titles = Dictionary(order.items.map { ($0.productID, $0.title) }, uniquingKeysWith: { first, _ in first })
        let keys = try await database.licenseKeys(orderID: order.id).map {
            ReceiptKey(title: titles[$0.productID] ?? $0.productID, key: $0.key, activationLimit: $0.activationLimit)
        }
        let buyer = try await database.user(id: order.buyerID)
        var link: String?
        if let buyer { link = try await links.issue(for: buyer, redirect: "/library") }
        return receiptMessage(order: order, keys: keys, link: link, dates: HumanDate(timeZone: HumanDate.zone(named: buyer?.timeZone) ?? .gmt))
    }

    /// A license key as the receipt lists it.
    public struct ReceiptKey: Sendable {
        public var title: String
        public var key: String
        public var activationLimit: Int?
    }

    /// The receipt of a made-up paid order, for the dashboard's preview of the template.
    public func sampleReceipt(now: Date) -> MailMessage {
        let items = [
            OrderItem(
                id: "li_sample1", productID: "prod_sample1", sellerID: "usr_sample", title: "Moth Atlas (sample)",
                kind: .download, quantity: 1, unitAmount: 2400, amount: 2400, feeAmount: 0, sellerAmount: 2400),
            OrderItem(
                id: "li_sample2", productID: "prod_sample2", sellerID: "usr_sample", title: "Field Counter App (sample)",
                kind: .license, quantity: 1, unitAmount: 900, amount: 900, feeAmount: 0, sellerAmount: 900),
        ]
        let order = Order(
            id: "ord_sample", buyerID: "usr_buyer", buyerEmail: "buyer@example.com", status: .paid, currency: "USD",
            total: 3300, refundedAmount: 0, provider: "stripe", providerSessionID: nil, providerPaymentID: nil,
            redirectURL: nil, items: items, createdAt: now, updatedAt: now, expiresAt: now, paidAt: now, number: 1042)
        return receiptMessage(
            order: order, keys: [ReceiptKey(title: "Field Counter App (sample)", key: "SAMPLE-KEY-0000-0000", activationLimit: 3)],
            link: "\(links.baseURL)/magic/sample", dates: HumanDate())
    }

    /// `dates`: in the buyer's time zone where their browser told it, else UTC.
    func receiptMessage(order: Order, keys: [ReceiptKey], link: String?, dates: HumanDate) -> MailMessage {
        let money = { (minor: Int) in Currency.display(minor, currency: order.currency) }
        let paidOn = dates.long(order.paidAt ?? order.createdAt)

        // Plain text: amounts right-aligned in one column.
        let labels = order.items.map { "\($0.quantity) × \($0.title)" } + ["Total"]
        let amounts = order.items.map { money($0.amount) } + [money(order.total)]
        let labelWidth = max(20, labels.map(\.count).max() ?? 20)
        let amountWidth = amounts.map(\.count).max() ?? 0
        var lines = [
            "Thank you for your purchase from \(storeName)!", "",
            "Order \(order.displayNumber), paid on \(paidOn)", "",
        ]
        if order.isTest { lines += ["TEST ORDER: paid with the store's test provider; no money moved.", ""] }
        for (label, amount) in zip(labels, amounts) {
            if label == "Total" { lines.append("  " + String(repeating: "─", count: labelWidth + 2 + amountWidth)) }
            lines.append(
                "  " + label.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "  "
                    + String(repeating: " ", count: amountWidth - amount.count) + amount)
        }
        if !keys.isEmpty {
            lines += ["", "Your license keys:"]
            for key in keys {
                let limit = key.activationLimit.map { " (up to \($0) activations)" } ?? ""
                lines.append("  \(key.title): \(key.key)\(limit)")
            }
        }
        if let link {
            lines += [
                "", "Your downloads, keys and pages are in your library:", "  \(link)",
                "This link signs you in once and works for 7 days; after that, sign in at \(links.baseURL)/signin.",
            ]
        } else {
            lines += [
                "", "Your downloads, keys and pages are in your library: \(links.baseURL)/library",
                "Sign in with your password to open it (admin accounts never sign in by e-mailed link).",
            ]
        }
        lines += ["", "— \(storeName)"]

        let subject = (order.isTest ? "[TEST] " : "") + "Your receipt from \(storeName) (order \(order.displayNumber))"
        // The same receipt as HTML, from the `receipt` template (the theme may replace it).
        let html = templates.render(
            "receipt",
            [
                "subject": subject, "store_name": storeName, "order_id": order.id, "order_number": order.displayNumber,
                "paid_on": paidOn, "is_test": order.isTest, "logo_url": logoURL as Any,
                "items": order.items.map { ["quantity": $0.quantity, "title": $0.title, "amount": money($0.amount)] },
                "total": money(order.total), "has_keys": !keys.isEmpty,
                "keys": keys.map { key -> [String: Any] in
                    [
                        "title": key.title, "key": key.key,
                        "limit": key.activationLimit.map { " (up to \($0) activations)" } ?? "",
                    ]
                },
                "link": link as Any, "base_url": links.baseURL,
            ])
        return MailMessage(
            from: from, to: order.buyerEmail, replyTo: replyTo,
            subject: subject,
            text: lines.joined(separator: "\n"), html: html,
            messageID: "receipt-\(order.id)@\(host)", date: database.clock.now())
    }

    func fileUpdate(userID: String, fileID: String) async throws -> MailMessage? {
        guard let user = try await database.user(id: userID), !user.disabled,
            try await database.emailPreferences(userID: userID).wantsEmail(.fileUpdated),
            let file = try await database.file(id: fileID), let product = try await database.productIncludingDeleted(id: file.productID),
            try await database.libraryEntry(userID: userID, productID: product.id, defaultDownloadLimit: 0) != nil
        else { return nil }
        let link = try await links.issue(for: user, redirect: "/library")
        return message(
            to: user.email, kind: "file-update",
            fileUpdateContent(name: user.name, userID: user.id, product: product.title, file: file.name, version: file.version, link: link),
            messageID: "file-\(file.id)-\(user.id)@\(host)")
    }

    func fileUpdateContent(name: String, userID: String, product: String, file: String, version: Int, link: String?) -> MailContent {
        MailContent(
            subject: "New version of \(product): \(file)", greeting: "Hello \(name),",
            paragraphs: ["\(product) has a new version of \(file) (version \(version))."],
            action: .init(label: "Download it from your library", url: link ?? "\(links.baseURL)/library"),
            notes: [link == nil ? "Sign in with your password to open it." : "This link signs you in once and works for 7 days."],
            footer: footer(for: .fileUpdated, userID: userID))
    }

    /// A notification's e-mail: its title and text, a link to what it is about, and how to turn
    /// this kind off. Nothing when the user muted the type since it was queued (checked again
    /// here), or the account is disabled.
    func notification(id: String) async throws -> MailMessage? {
        guard let notice = try await database.notification(id: id), let type = NotificationType(rawValue: notice.type),
            let user = try await database.user(id: notice.userID), !user.disabled,
            try await database.emailPreferences(userID: user.id).wantsEmail(type)
        else { return nil }
        return message(
            to: user.email, kind: "notification",
            noticeContent(name: user.name, userID: user.id, type: type, title: notice.title, body: notice.body, url: notice.url),
            messageID: "notification-\(notice.id)@\(host)")
    }

    func noticeContent(name: String, userID: String, type: NotificationType, title: String, body: String, url: String?)
        -> MailContent
    {
        MailContent(
            subject: title, greeting: "Hello \(name),", heading: title, paragraphs: [body],
            action: url.map { .init(label: "Open it", url: $0.hasPrefix("/") ? links.baseURL + $0 : $0) },
            footer: footer(for: type, userID: userID))
    }

    /// Why the e-mail came, and the way out (the same link as the List-Unsubscribe header).
    func footer(for type: NotificationType, userID: String) -> MailContent.Footer {
        MailContent.Footer(
            why: "You get this e-mail because of your choice \"\(type.label)\" (on by default).",
            unsubscribeURL: unsubscribe.link(userID: userID, type: type), choicesURL: "\(links.baseURL)/account#email")
    }
}
