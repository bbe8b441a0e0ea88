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

    @Test("Verifying against the decoy does the full work of its cost, as a wrong password does")
    func decoyCostsTheWorkOfItsCost() async {
        // 2^10 rounds against 2^4: a decoy that were refused before hashing would take no longer at 10.
        // The fastest of three tries: other tests share the cores.
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
        let cheap = PasswordHasher(cost: 4), dear = PasswordHasher(cost: 10)
        let real = await dear.hash("the account's own password")
        let decoy = await seconds(dear, dear.decoyHash)
        let wrongPassword = await seconds(dear, real)
        let cheapDecoy = await seconds(cheap, cheap.decoyHash)
        #expect(decoy > 10 * cheapDecoy, "decoy at cost 10: \(decoy) s, at cost 4: \(cheapDecoy) s")
        #expect(decoy > wrongPassword / 3 && decoy < wrongPassword * 3, "decoy \(decoy) s, wrong password \(wrongPassword) s")
    }
}
