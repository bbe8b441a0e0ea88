import Foundation
import SoukAuth
import Testing

@Suite("Password hashing: the decoy for unknown accounts")
struct PasswordHasherTests {
    @Test("The decoy is a well-formed hash at the configured cost that no password matches")
    func decoyShape() async {
        for cost in [4, 9, 10, 12, 31] {
            let decoy = PasswordHasher(cost: cost).decoyHash
            #expect(decoy.count == 60, "\(decoy)")
            #expect(decoy.hasPrefix(String(format: "$2b$%02d$", cost)), "\(decoy)")
            let alphabet = Set("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
            #expect(decoy.dropFirst(7).allSatisfy(alphabet.contains), "\(decoy)")
        }
        let hasher = PasswordHasher(cost: 4)
        for password in ["", "correct horse battery", "decoy-4-password", hasher.decoyHash] {
            #expect(await hasher.verify(password, hash: hasher.decoyHash) == false)
        }
    }

    @Test("Verifying against the decoy takes as long as a wrong password: the full work of its cost")
    func decoyCostsTheWorkOfItsCost() async {
        // At cost 12 one verification is ~260 ms of work, far above what waiting for the hashing
        // queue adds while other tests share the cores; the fastest of three tries of each.
        func seconds(_ hasher: PasswordHasher, _ hash: String) async -> Double {
            var fastest = Double.infinity
            for _ in 0..<3 {
                let start = ContinuousClock.now
                _ = await hasher.verify("a wrong password", hash: hash)
                let elapsed = ContinuousClock.now - start
                fastest = min(fastest, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
            }
            return fastest
        }
        let hasher = PasswordHasher(cost: 12)
        let real = await hasher.hash("the account's own password")
        let wrongPassword = await seconds(hasher, real)
        let decoy = await seconds(hasher, hasher.decoyHash)
        #expect(decoy > wrongPassword / 3 && decoy < wrongPassword * 3, "decoy \(decoy) s, wrong password \(wrongPassword) s")
    }
}
