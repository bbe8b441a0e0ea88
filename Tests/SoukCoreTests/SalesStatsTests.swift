import Foundation
import SoukCore
import Testing

@Suite("The seller's numbers: buckets by day, week and month; top products")
struct SalesStatsTests {
    /// 2026-12-06 is a Sunday.
    let now = ISO8601DateFormatter().date(from: "2026-12-06T15:00:00Z")!

    func at(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    func day(_ time: String, _ revenue: Int, orders: Int = 1, currency: String = "USD") -> SalesStats.DayTotal {
        .init(day: at(time), currency: currency, revenue: revenue, orders: orders)
    }

    func product(_ id: String, _ revenue: Int, sold: Int, orders: Int? = nil, currency: String = "USD") -> SalesStats.ProductTotal {
        .init(productID: id, title: id, currency: currency, revenue: revenue, sold: sold, orders: orders ?? sold)
    }

    @Test("Days, Monday-first weeks and months, oldest first, ending with the one holding now")
    func buckets() {
        let days = [
            day("2026-11-29T00:00:00Z", 700), day("2026-11-30T00:00:00Z", 200), day("2026-12-05T00:00:00Z", 1000),
            day("2026-12-06T00:00:00Z", 800), day("2026-12-06T00:00:00Z", 999, currency: "EUR"),
            // Before the chart: left out.
            day("2024-01-01T00:00:00Z", 5),
        ]
        let daily = SalesStats.series(days, currency: "USD", period: .day, now: now)
        #expect(daily.count == 30 && daily.last?.start == at("2026-12-06T00:00:00Z"))
        #expect((daily.last?.revenue, daily.last?.orders) == (800, 1))
        #expect(daily[daily.count - 2].revenue == 1000)
        let weeks = SalesStats.series(days, currency: "USD", period: .week, now: now)
        #expect(weeks.count == 12 && weeks.last?.start == at("2026-11-30T00:00:00Z"), "weeks start on Monday")
        #expect((weeks.last?.revenue, weeks.last?.orders) == (2000, 3))
        #expect(weeks[weeks.count - 2].revenue == 700)
        let months = SalesStats.series(days, currency: "USD", period: .month, now: now)
        #expect(months.last?.start == at("2026-12-01T00:00:00Z") && months.last?.revenue == 1800)
        #expect(months[months.count - 2].revenue == 900)
        #expect(months.reduce(0) { $0 + $1.revenue } == 2700)
        #expect(SalesStats.series(days, currency: "EUR", period: .month, now: now).last?.revenue == 999)
    }

    @Test("Top products by revenue in one currency; a product refunded to nothing is not one")
    func top() {
        let products = [
            product("prod_b", 900, sold: 1), product("prod_a", 1000, sold: 2), product("prod_c", 9000, sold: 3, currency: "EUR"),
            product("prod_d", 0, sold: 0),
        ]
        let top = SalesStats.topProducts(products, currency: "USD")
        #expect(top.map(\.productID) == ["prod_a", "prod_b"])
        #expect(top.map(\.sold) == [2, 1] && top.first?.revenue == 1000)
    }

    @Test("Conversion: orders with the product over its page views; a sale without views has no rate")
    func conversion() {
        let products = [
            // Three lines in two orders: two sales, whatever the currency.
            product("prod_a", 1800, sold: 2, orders: 1), product("prod_a", 900, sold: 1, orders: 1, currency: "EUR"),
            product("prod_b", 500, sold: 1),
        ]
        let views = [
            SalesStats.ProductViews(productID: "prod_a", title: "A", views: 40),
            SalesStats.ProductViews(productID: "prod_c", title: "C", views: 3),
        ]
        let rows = SalesStats.conversion(products, views: views)
        #expect(rows.map(\.productID) == ["prod_a", "prod_c", "prod_b"])
        #expect(rows[0].orders == 2 && rows[0].rate == 0.05)
        #expect(rows[1].orders == 0 && rows[1].rate == 0)
        #expect(rows[2].views == 0 && rows[2].orders == 1 && rows[2].rate == nil)
    }
}
