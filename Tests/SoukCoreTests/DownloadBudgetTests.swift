import SoukCore
import Testing

@Suite("Download budget: the limit counted in bytes served")
struct DownloadBudgetTests {
    typealias Decision = DownloadBudget.Decision

    @Test("What a request is served, by bytes charged so far (limit 2 of a 1000-byte file)")
    func decisions() {
        let cases: [(charged: Int64, range: ClosedRange<Int64>?, expected: Decision?)] = [
            (0, nil, .serve(nil)),
            (1000, nil, .serve(nil)),  // exactly a file left
            (1001, nil, nil),  // a whole download needs the whole file: refused
            (1001, 0...999, .serve(0...998)),  // a range is clamped to what is left
            (1500, 200...299, .serve(200...299)),
            (1999, 10...20, .serve(10...10)),
            (2000, 999...999, nil),
            (2000, nil, nil),
            (2500, 0...0, nil),  // overspent by an old reservation: still refused, never negative
        ]
        for item in cases {
            let decision = DownloadBudget(limit: 2, fileSize: 1000, charged: item.charged).decide(item.range)
            if let expected = item.expected {
                #expect(decision == expected, "\(item)")
            } else if case .refuse(let reason) = decision {
                #expect(reason.contains("Download limit reached"), "\(item): \(reason)")
            } else {
                Issue.record("\(item) should be refused, got \(decision)")
            }
        }
    }

    @Test("Whole downloads left: bytes left over the size, rounded down; 0 = unlimited; empty files never run out")
    func downloadsLeft() {
        #expect(DownloadBudget(limit: 2, fileSize: 1000, charged: 0).downloadsLeft == 2)
        #expect(DownloadBudget(limit: 2, fileSize: 1000, charged: 1).downloadsLeft == 1)
        #expect(DownloadBudget(limit: 2, fileSize: 1000, charged: 1000).downloadsLeft == 1)
        #expect(DownloadBudget(limit: 2, fileSize: 1000, charged: 2000).downloadsLeft == 0)
        #expect(DownloadBudget(limit: 2, fileSize: 1000, charged: 9000).downloadsLeft == 0)
        #expect(DownloadBudget(limit: 0, fileSize: 1000, charged: 9000).downloadsLeft == nil)
        #expect(DownloadBudget(limit: 0, fileSize: 1000, charged: 9000).decide(nil) == .serve(nil))
        #expect(DownloadBudget(limit: 3, fileSize: 0, charged: 0).downloadsLeft == 3)
        #expect(DownloadBudget(limit: 3, fileSize: 0, charged: 0).decide(nil) == .serve(nil))
    }

    @Test("A resume credits only the tail its interrupted transfer wrote, within the slack and the cap")
    func resumeCredit() {
        let slack = DownloadBudget.resumeSlack
        let cut = DownloadBudget.InterruptedTransfer(firstByte: 100, sent: 200_000_000)  // wrote 100 ..< 200_000_100
        let end: Int64 = 200_000_100
        #expect(DownloadBudget.resumeCredit(of: cut, resumingAt: end - 1000, creditLeft: .max) == 1000)
        #expect(DownloadBudget.resumeCredit(of: cut, resumingAt: end - slack, creditLeft: .max) == slack)
        #expect(DownloadBudget.resumeCredit(of: cut, resumingAt: end - slack - 1, creditLeft: .max) == nil, "too far back: a new download")
        #expect(DownloadBudget.resumeCredit(of: cut, resumingAt: end, creditLeft: .max) == 0, "a resume that asks nothing again")
        #expect(DownloadBudget.resumeCredit(of: cut, resumingAt: end + 1, creditLeft: .max) == nil, "past what was written")
        #expect(DownloadBudget.resumeCredit(of: cut, resumingAt: 50, creditLeft: .max) == nil, "before the transfer")
        #expect(DownloadBudget.resumeCredit(of: cut, resumingAt: end - 1000, creditLeft: 300) == 300, "capped")
        #expect(DownloadBudget.resumeCredit(of: cut, resumingAt: end - 1000, creditLeft: 0) == 0, "a resume, cap used up")
    }
}
