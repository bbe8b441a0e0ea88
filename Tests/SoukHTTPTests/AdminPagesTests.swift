import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SoukCore
@testable import SoukDatabase
import Testing

/// A marketplace store, so sellers sign up themselves and wait for an admin.
private func adminStore() throws -> TestStore {
    try TestStore { settings in
        settings.store.marketplace = true
        settings.limits.signupPerIPPerHour = 0
    }
}

private let html: HTTPFields = [.accept: "text/html"]

extension Browser {
    fileprivate func adminPage(_ uri: String) async throws -> TestResponse { try await get(uri, headers: html) }
}

@Suite("Admin pages under /admin")
struct AdminPagesTests {
    static let pages = [
        "/admin", "/admin/users", "/admin/sellers", "/admin/reviews", "/admin/orders", "/admin/jobs", "/admin/webhooks",
    ]

    @Test("Signed out: sent to sign in and back; a buyer or seller gets the 403 page; an admin sees the nav link")
    func access() async throws {
        let store = try adminStore()
        try await store.run { browser in
            for path in Self.pages {
                let anonymous = try await Browser(client: browser.client).adminPage(path)
                #expect(anonymous.status == .seeOther, "\(path)")
                #expect(anonymous.headers[.location] == "/signin?next=\(path)")
            }
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com")
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            for user in [buyer, seller] {
                for path in Self.pages {
                    let refused = try await user.adminPage(path)
                    #expect(refused.status == .forbidden, "\(path)")
                    #expect(refused.text.contains("Only an admin may do this."), "\(path)")
                    #expect(!refused.text.contains("action=\"/admin"), "\(path) offers an admin form")
                }
                #expect(!(try await user.adminPage("/account")).text.contains(#"href="/admin""#))
            }
            let admin = try await store.admin(browser)
            for path in Self.pages {
                let page = try await admin.adminPage(path)
                #expect(page.status == .ok, "\(path): \(page.text)")
            }
            #expect((try await admin.adminPage("/account")).text.contains(#"<a href="/admin" id="admin-link">Admin</a>"#))
        }
    }

    @Test("A non-admin's POST with a valid CSRF token is refused (403) and changes nothing")
    func nonAdminPosts() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let pending = Browser(client: browser.client)
            try await pending.register("pending@example.com", role: "seller")
            let id = try #require(try await pending.userID())
            let seller = try await store.verifiedSeller(browser, "seller@example.com")
            let verify = try await seller.submitForm(
                "/admin/sellers/\(id)/status", fields: ["status": "verified"], csrfFrom: "/account")
            #expect(verify.status == .forbidden)
            let disable = try await seller.submitForm(
                "/admin/users/\(id)/disabled", fields: ["disabled": "true"], csrfFrom: "/account")
            #expect(disable.status == .forbidden)
            let user = try #require(try await store.database.user(id: id))
            #expect(user.sellerStatus == .pending)
            #expect(!user.disabled)
        }
    }

    @Test("A form without the CSRF token, or with a forged one, is refused and changes nothing")
    func csrf() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let pending = Browser(client: browser.client)
            try await pending.register("pending@example.com", role: "seller")
            let id = try #require(try await pending.userID())
            let admin = try await store.admin(browser)
            _ = try await admin.adminPage("/admin/sellers")
            for body in ["status=verified", "status=verified&_csrf=forged"] {
                let refused = try await admin.request(
                    .post, "/admin/sellers/\(id)/status",
                    headers: [.contentType: "application/x-www-form-urlencoded", .accept: "text/html"], body: body)
                #expect(refused.status == .forbidden)
                #expect(refused.text.contains("This form has expired or came from another site."))
            }
            #expect(try await store.database.user(id: id)?.sellerStatus == .pending)
        }
    }

    @Test("Verify: the pending seller is listed first, verified as by `souk seller verify`, and may then sell")
    func verify() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let pending = Browser(client: browser.client)
            try await pending.register("maker@example.com", name: "Maker", role: "seller")
            let id = try #require(try await pending.userID())
            #expect(try await pending.json(.post, "/api/v1/products", #"{"title":"Kit","category":"Books","price":500}"#).status == .forbidden)
            let admin = try await store.admin(browser)

            let list = try await admin.adminPage("/admin/sellers")
            #expect(list.text.contains(#"id="seller-\#(id)""#))
            #expect(list.text.contains(#"aria-current="page">pending (1)"#))
            let verified = try await admin.submitForm(
                "/admin/sellers/\(id)/status", fields: ["status": "verified"], csrfFrom: "/admin/sellers")
            #expect(verified.status == .seeOther)
            #expect(verified.headers[.location] == "/admin/sellers?status=verified&changed=\(id)")
            let seller = try #require(try await store.database.user(id: id))
            #expect(seller.sellerStatus == .verified)
            #expect(seller.sellerStatusReason == nil)
            let after = try await admin.adminPage(try #require(verified.headers[.location]))
            #expect(after.text.contains("maker@example.com is now verified."))
            #expect(!(try await admin.adminPage("/admin/sellers")).text.contains(#"id="seller-\#(id)""#))

            // As with the CLI: the seller is told, and acts as a seller on their next request.
            let notices = try await store.database.writer.read { db in
                try String.fetchAll(db, sql: "SELECT type FROM notifications WHERE user_id = ?", arguments: [id])
            }
            #expect(notices.contains("seller.verified"))
            let created = try await pending.json(
                .post, "/api/v1/products", #"{"title":"Kit","kind":"download","category":"Books","price":500}"#)
            #expect(created.status == .created, "\(created.text)")
        }
    }

    @Test("Reject needs a reason: without one the page shows the error and nothing changes; with one the seller sees it")
    func rejectWithReason() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let pending = Browser(client: browser.client)
            try await pending.register("maker@example.com", role: "seller")
            let id = try #require(try await pending.userID())
            let admin = try await store.admin(browser)

            for blank in ["", "   "] {
                let refused = try await admin.submitForm(
                    "/admin/sellers/\(id)/status", fields: ["status": "rejected", "reason": blank], csrfFrom: "/admin/sellers")
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains(#"id="seller-error">Give a reason: the seller sees it"#))
                #expect(refused.text.contains(#"id="seller-\#(id)""#))
            }
            var seller = try #require(try await store.database.user(id: id))
            #expect(seller.sellerStatus == .pending)
            let tooLong = try await admin.submitForm(
                "/admin/sellers/\(id)/status", fields: ["status": "rejected", "reason": String(repeating: "x", count: 501)],
                csrfFrom: "/admin/sellers")
            #expect(tooLong.status == .unprocessableContent)
            #expect(tooLong.text.contains("Keep the reason under 500 characters"))
            #expect(try await store.database.user(id: id)?.sellerStatus == .pending)

            let reason = "Your shop sells other people's work & ours is a small store"
            let rejected = try await admin.submitForm(
                "/admin/sellers/\(id)/status", fields: ["status": "rejected", "reason": reason], csrfFrom: "/admin/sellers")
            #expect(rejected.status == .seeOther)
            seller = try #require(try await store.database.user(id: id))
            #expect(seller.sellerStatus == .rejected)
            #expect(seller.sellerStatusReason == reason)

            let escaped = "Your shop sells other people&#39;s work &amp; ours is a small store"
            let account = try await pending.adminPage("/account")
            #expect(account.text.contains(#"id="seller-status">rejected<"#))
            #expect(account.text.contains(#"id="seller-standing-reason">The admin's reason: \#(escaped)</p>"#))
            let dashboard = try await pending.adminPage("/dashboard")
            #expect(dashboard.status == .forbidden)
            #expect(dashboard.text.contains(#"id="seller-standing-reason">The admin's reason: \#(escaped)</p>"#))
            // Verified again later: the old reason is gone from their pages.
            _ = try await admin.submitForm(
                "/admin/sellers/\(id)/status", fields: ["status": "verified"], csrfFrom: "/admin/sellers?status=rejected")
            #expect(!(try await pending.adminPage("/account")).text.contains("seller-standing-reason"))
        }
    }

    @Test("Disable ends the user's sessions at once, enable lets them sign in again; an admin cannot disable themselves")
    func disableEnable() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let buyer = Browser(client: browser.client)
            try await buyer.register("buyer@example.com", password: "buyer password")
            let id = try #require(try await buyer.userID())
            let admin = try await store.admin(browser)
            let adminID = try #require(try await admin.userID())

            let users = try await admin.adminPage("/admin/users?q=BUYER%40")
            #expect(users.text.contains("buyer@example.com"))
            #expect(!users.text.contains("admin@example.com"))
            let disabled = try await admin.submitForm(
                "/admin/users/\(id)/disabled", fields: ["disabled": "true"], csrfFrom: "/admin/users")
            #expect(disabled.status == .seeOther)
            #expect(try await store.database.user(id: id)?.disabled == true)
            #expect(try await buyer.get("/api/v1/me").status == .unauthorized)
            let notice = try await admin.adminPage(try #require(disabled.headers[.location]))
            #expect(notice.text.contains("buyer@example.com is now disabled"))
            #expect(notice.text.contains(#"<input type="hidden" name="disabled" value="false"><button class="secondary" type="submit">Enable</button>"#))

            let enabled = try await admin.submitForm(
                "/admin/users/\(id)/disabled", fields: ["disabled": "false"], csrfFrom: "/admin/users")
            #expect(enabled.status == .seeOther)
            #expect(try await store.database.user(id: id)?.disabled == false)
            let again = try await Browser(client: browser.client).json(
                .post, "/api/v1/auth/login", #"{"email":"buyer@example.com","password":"buyer password"}"#)
            #expect(again.status == .ok)

            // No button for themselves, and the rule holds for a hand-made POST too.
            #expect((try await admin.adminPage("/admin/users?q=admin%40")).text.contains(#"<span class="muted">you</span>"#))
            let own = try await admin.submitForm(
                "/admin/users/\(adminID)/disabled", fields: ["disabled": "true"], csrfFrom: "/admin/users")
            #expect(own.status == .forbidden)
            #expect(own.text.contains("You cannot disable your own account."))
            #expect(try await store.database.user(id: adminID)?.disabled == false)
            #expect(try await admin.get("/api/v1/me").status == .ok)
        }
    }

    @Test("Users are paged 25 at a time, newest first, filtered by e-mail and role")
    func usersPaged() async throws {
        let store = try adminStore()
        try await store.run { browser in
            for n in 1...30 {
                _ = try await store.database.insertUser(
                    email: String(format: "user%02d@example.com", n), name: "U\(n)", passwordHash: "x", role: n % 10 == 0 ? .seller : .buyer)
                // Distinct creation times, so "newest first" has one answer.
                try await Task.sleep(for: .milliseconds(2))
            }
            let admin = try await store.admin(browser)
            let first = try await admin.adminPage("/admin/users?role=buyer")
            let firstEmails = first.text.matches(of: /data-email="([^"]+)"/).map { String($0.1) }
            #expect(firstEmails.count == 25)
            #expect(firstEmails.first == "user29@example.com")
            #expect(first.text.contains(#"href="/admin/users?role=buyer&amp;page=2""#) || first.text.contains(#"href="/admin/users?role=buyer&page=2""#))
            let second = try await admin.adminPage("/admin/users?role=buyer&page=2")
            let secondEmails = second.text.matches(of: /data-email="([^"]+)"/).map { String($0.1) }
            // 27 buyers (every tenth account is a seller): 25, then the two oldest.
            #expect(secondEmails == ["user02@example.com", "user01@example.com"])
            #expect(!second.text.contains("id=\"next-page\""))
            let sellers = try await admin.adminPage("/admin/users?role=seller&q=user1")
            #expect(sellers.text.matches(of: /data-email="([^"]+)"/).map { String($0.1) } == ["user10@example.com"])
            // `%` is a character to look for, not a wildcard.
            #expect((try await admin.adminPage("/admin/users?q=%25")).text.contains("No accounts match."))
        }
    }

    @Test("Hide and show a review from the reviews page: the product's rating is recomputed, as by `souk review hide`")
    func hideReview() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser, files: [])
            let (buyer, _) = try await store.paidBuyer(browser, buying: [productID])
            let (other, _) = try await store.paidBuyer(browser, "other@example.com", buying: [productID])
            let spamID = try #require(try await buyer.review(productID, #"{"rating":1,"body":"Spam spam"}"#).object["id"] as? String)
            let good = try await other.review(productID, #"{"rating":5,"body":"Good"}"#)
            #expect(good.status == .created)
            let goodID = try #require(good.object["id"] as? String)
            let admin = try await store.admin(browser)

            let list = try await admin.adminPage("/admin/reviews")
            #expect(list.text.contains(#"id="review-\#(spamID)" class="review-visible""#))
            let hidden = try await admin.submitForm(
                "/admin/reviews/\(spamID)/hidden", fields: ["hidden": "true", "product_id": productID, "position": "older=\(goodID)"],
                csrfFrom: "/admin/reviews")
            #expect(hidden.status == .seeOther)
            // Back to the page the button was on: the reviews older than the newer one.
            #expect(hidden.headers[.location]?.hasPrefix("/admin/reviews?older=\(goodID)&changed=\(spamID)") == true)
            #expect(try await store.database.review(id: spamID)?.hiddenAt != nil)
            var rating = try await store.database.ratingSummary(productID: productID)
            #expect(rating.count == 1)
            #expect(rating.average == 5)
            #expect((try await browser.reviews(productID)["data"] as? [[String: Any]])?.count == 1)
            let after = try await admin.adminPage(try #require(hidden.headers[.location]))
            #expect(after.text.contains(#"id="review-\#(spamID)" class="review-hidden""#))
            #expect(after.text.contains("is now hidden"))

            let shown = try await admin.submitForm(
                "/admin/reviews/\(spamID)/hidden", fields: ["hidden": "false", "product_id": productID], csrfFrom: "/admin/reviews")
            #expect(shown.status == .seeOther)
            #expect(try await store.database.review(id: spamID)?.hiddenAt == nil)
            rating = try await store.database.ratingSummary(productID: productID)
            #expect(rating.count == 2)

            // A review of another product is not found under this one: nothing changes.
            let wrong = try await admin.submitForm(
                "/admin/reviews/\(spamID)/hidden", fields: ["hidden": "true", "product_id": "prod_nope"], csrfFrom: "/admin/reviews")
            #expect(wrong.status == .notFound)
            #expect(try await store.database.review(id: spamID)?.hiddenAt == nil)
        }
    }

    @Test("Retry a dead job: queued to run now with its attempts reset, as `souk jobs retry`; a done job cannot be")
    func retryJob() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let queue = JobQueue(database: store.database)
            let deadID = try await queue.enqueue(kind: "receipt", payload: ["order_id": "ord_x"])
            let doneID = try await queue.enqueue(kind: "fulfil", payload: ["order_id": "ord_y"])
            try await store.database.writer.write { db in
                try db.execute(
                    sql: "UPDATE jobs SET state = 'dead', attempts = max_attempts, last_error = 'SMTP 550 mailbox unavailable' WHERE id = ?",
                    arguments: [deadID])
                try db.execute(sql: "UPDATE jobs SET state = 'done' WHERE id = ?", arguments: [doneID])
            }
            let admin = try await store.admin(browser)
            let list = try await admin.adminPage("/admin/jobs")
            #expect(list.text.contains(#"id="job-\#(deadID)""#))
            #expect(list.text.contains("SMTP 550 mailbox unavailable"))
            #expect(!list.text.contains(#"id="job-\#(doneID)""#))

            let retried = try await admin.submitForm("/admin/jobs/\(deadID)/retry", fields: [:], csrfFrom: "/admin/jobs")
            #expect(retried.status == .seeOther)
            let job = try #require(try await queue.job(id: deadID))
            #expect(job.state == .queued)
            #expect(job.attempts == 0)
            #expect((try await admin.adminPage("/admin/jobs")).text.contains("No dead jobs."))

            let refused = try await admin.submitForm("/admin/jobs/\(doneID)/retry", fields: [:], csrfFrom: "/admin/jobs")
            #expect(refused.status == .conflict)
            #expect(refused.text.contains("is already done"))
            #expect(try await queue.job(id: doneID)?.state == .done)
        }
    }

    @Test("Orders: recent orders link to their page; a refund goes through RefundService; a bad amount shows the error")
    func refund() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let (_, productID, _) = try await store.sellerWithProduct(browser, files: [])
            let (_, orderID) = try await store.paidBuyer(browser, buying: [productID])
            let admin = try await store.admin(browser)

            let list = try await admin.adminPage("/admin/orders")
            #expect(list.text.contains(#"<a href="/orders/\#(orderID)">"#))
            #expect(try await admin.adminPage("/orders/\(orderID)").status == .ok)

            let tooMuch = try await admin.submitForm(
                "/admin/orders/\(orderID)/refund", fields: ["amount": "100", "reason": "x"], csrfFrom: "/admin/orders")
            #expect(tooMuch.status == .unprocessableContent)
            #expect(tooMuch.text.contains(#"id="admin-error">Order \#(orderID): Refund between $0.01 and $9.00"#))
            let notAmount = try await admin.submitForm(
                "/admin/orders/\(orderID)/refund", fields: ["amount": "lots"], csrfFrom: "/admin/orders")
            #expect(notAmount.status == .unprocessableContent)
            #expect(notAmount.text.contains("Enter an amount like 5 or 5.50."))
            #expect(try await store.database.order(id: orderID)?.refundedAmount == 0)

            let partial = try await admin.submitForm(
                "/admin/orders/\(orderID)/refund", fields: ["amount": "2.50", "reason": "Late"], csrfFrom: "/admin/orders")
            #expect(partial.status == .seeOther)
            let order = try #require(try await store.database.order(id: orderID))
            #expect(order.refundedAmount == 250)
            #expect(order.status == .partiallyRefunded)
            #expect(try await store.database.refunds(orderID: orderID).count == 1)
        }
    }

    @Test("Failing webhooks: an endpoint whose delivery failed is listed with its seller and last answer; a healthy one is not")
    func failingWebhooks() async throws {
        let store = try adminStore()
        try await store.run { browser in
            let seller = try await store.verifiedSeller(browser, "hooks@example.com")
            for url in ["https://hooks.example.com/broken", "https://hooks.example.com/fine"] {
                let created = try await seller.json(
                    .post, "/api/v1/webhook-endpoints", #"{"url":"\#(url)","events":["order.paid"]}"#)
                #expect(created.status == .created, "\(created.text)")
            }
            let sellerID = try #require(try await store.database.user(email: "hooks@example.com")?.id)
            let endpoints = try await store.database.webhookEndpoints(sellerID: sellerID)
            let broken = try #require(endpoints.first { $0.url.hasSuffix("/broken") })
            let fine = try #require(endpoints.first { $0.url.hasSuffix("/fine") })
            let failed = try await store.database.queueTestWebhook(endpointID: broken.id)
            _ = try await store.database.recordWebhookAttempt(
                messageID: failed.id,
                result: WebhookAttemptResult(statusCode: 503, durationMilliseconds: 12, responseExcerpt: "busy", error: nil))
            let answered = try await store.database.queueTestWebhook(endpointID: fine.id)
            _ = try await store.database.recordWebhookAttempt(
                messageID: answered.id,
                result: WebhookAttemptResult(statusCode: 200, durationMilliseconds: 5, responseExcerpt: "ok", error: nil))

            let admin = try await store.admin(browser)
            let page = try await admin.adminPage("/admin/webhooks")
            #expect(page.status == .ok)
            #expect(page.text.contains("https://hooks.example.com/broken") && page.text.contains("hooks@example.com"))
            #expect(page.text.contains("HTTP 503") && page.text.contains("failing"))
            #expect(!page.text.contains("https://hooks.example.com/fine"), "a healthy endpoint is not listed")
            #expect(try await seller.adminPage("/admin/webhooks").status == .forbidden)
        }
    }
}
