import Foundation
import SoukCore
import Testing

@Suite("The seller's numbers: buckets by day, week and month; top products")
struct SalesStatsTests {
    /// 2026-12-06 is a Sunday.
    let now = ISO8601DateFormatter().date(from: "2026-12-06T15:00:00Z")!

    func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func line(_ order: String, _ time: String, _ amount: Int, product: String = "prod_a", currency: String = "USD")
        -> SalesStats.Line
    {
        .init(orderID: order, paidAt: at(time), currency: currency, productID: product, title: product, sellerAmount: amount)
    }

    @Test("Days, Monday-first weeks and months, oldest first, ending with the one holding now")
    func buckets() {
        let lines = [
            line("ord_1", "2026-12-06T01:00:00Z", 500), line("ord_1", "2026-12-06T01:00:00Z", 300, product: "prod_b"),
            line("ord_2", "2026-12-05T23:59:59Z", 1000), line("ord_3", "2026-11-30T00:00:00Z", 200),
            line("ord_4", "2026-11-29T23:00:00Z", 700), line("ord_5", "2026-12-06T02:00:00Z", 999, currency: "EUR"),
        ]
        let days = SalesStats.series(lines, currency: "USD", period: .day, now: now)
        #expect(days.count == 30 && days.last?.start == at("2026-12-06T00:00:00Z"))
        #expect((days.last?.revenue, days.last?.orders) == (800, 1), "two lines of one order are one order")
        #expect(days[days.count - 2].revenue == 1000)
        let weeks = SalesStats.series(lines, currency: "USD", period: .week, now: now)
        #expect(weeks.count == 12 && weeks.last?.start == at("2026-11-30T00:00:00Z"), "weeks start on Monday")
        #expect((weeks.last?.revenue, weeks.last?.orders) == (2000, 3))
        #expect(weeks[weeks.count - 2].revenue == 700)
        let months = SalesStats.series(lines, currency: "USD", period: .month, now: now)
        #expect(months.last?.start == at("2026-12-01T00:00:00Z") && months.last?.revenue == 1800)
        #expect(months[months.count - 2].revenue == 900)
        #expect(SalesStats.series(lines, currency: "EUR", period: .month, now: now).last?.revenue == 999)
    }

    @Test("Top products by revenue since a date")
    func top() {
        let lines = [
            line("ord_1", "2026-12-01T00:00:00Z", 500, product: "prod_a"), line("ord_2", "2026-12-02T00:00:00Z", 500, product: "prod_a"),
            line("ord_3", "2026-12-03T00:00:00Z", 900, product: "prod_b"), line("ord_4", "2026-10-01T00:00:00Z", 9000, product: "prod_c"),
        ]
        let top = SalesStats.topProducts(lines, currency: "USD", since: at("2026-11-01T00:00:00Z"))
        #expect(top.map(\.productID) == ["prod_a", "prod_b"])
        #expect(top.map(\.sold) == [2, 1] && top.first?.revenue == 1000)
    }

    @Test("Conversion: orders with the product over its page views; a sale without views has no rate")
    func conversion() {
        let lines = [
            line("ord_1", "2026-12-06T10:00:00Z", 900, product: "prod_a"),
            // Two lines of one product in one order are one sale.
            line("ord_2", "2026-12-06T11:00:00Z", 900, product: "prod_a"),
            line("ord_2", "2026-12-06T11:00:00Z", 900, product: "prod_a"),
            line("ord_3", "2026-12-06T12:00:00Z", 500, product: "prod_b"),
            // Before the period: not counted.
            line("ord_0", "2026-11-01T12:00:00Z", 500, product: "prod_a"),
        ]
        let views = [
            SalesStats.ProductViews(productID: "prod_a", title: "A", views: 40),
            SalesStats.ProductViews(productID: "prod_c", title: "C", views: 3),
        ]
        let rows = SalesStats.conversion(lines, views: views, since: at("2026-12-01T00:00:00Z"))
        #expect(rows.map(\.productID) == ["prod_a", "prod_c", "prod_b"])
        #expect(rows[0].orders == 2 && rows[0].rate == 0.05)
        #expect(rows[1].orders == 0 && rows[1].rate == 0)
        #expect(rows[2].views == 0 && rows[2].orders == 1 && rows[2].rate == nil)
    }
}
