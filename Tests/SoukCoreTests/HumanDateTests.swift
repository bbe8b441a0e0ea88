import Foundation
import SoukCore
import Testing

@Suite("Dates people read; seller page addresses")
struct HumanDateTests {
    let moment = ISO8601DateFormatter().date(from: "2026-12-06T07:05:00Z")!

    @Test("UTC by default, named; a reported zone shifts the clock and the day")
    func formats() {
        let utc = HumanDate()
        #expect(utc.day(moment) == "Dec 6, 2026")
        #expect(utc.dayAndTime(moment) == "Dec 6, 2026, 07:05 UTC")
        #expect(utc.long(moment) == "December 6, 2026 at 07:05 UTC")
        let honolulu = HumanDate(timeZone: HumanDate.zone(named: "Pacific/Honolulu")!)
        #expect(honolulu.long(moment).hasPrefix("December 5, 2026 at 21:05 "))
    }

    @Test("Only IANA zone names are taken from a browser")
    func zones() {
        #expect(HumanDate.zone(named: "Europe/Berlin")?.identifier == "Europe/Berlin")
        for bad in [nil, "", "Mars/Olympus_Mons", "../../etc/passwd", "Europe/Berlin\r\nX: y", String(repeating: "A", count: 100)] {
            #expect(HumanDate.zone(named: bad) == nil)
        }
    }

    @Test("A page address: lower-cased, 3–40 letters, digits and inner hyphens; blank clears it")
    func slugs() throws {
        #expect(try SellerSlug.normalize("  Moth-Press ") == "moth-press")
        #expect(try SellerSlug.normalize("") == nil)
        #expect(try SellerSlug.normalize(nil) == nil)
        for bad in ["ab", "moth press", "-moth", "moth-", "usr_123", "mötley", String(repeating: "a", count: 41)] {
            #expect(throws: SoukError.self) { try SellerSlug.normalize(bad) }
        }
    }
}
