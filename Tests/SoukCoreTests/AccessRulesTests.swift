import Foundation
import SoukCore
import Testing

@Suite("Who acts as a seller, and how sessions are made")
struct AccessRulesTests {
    private func user(_ role: Role, _ status: SellerStatus?) -> User {
        User(id: "usr_1", email: "a@example.com", name: "A", role: role, sellerStatus: status, disabled: false,
             createdAt: Date(timeIntervalSince1970: 0))
    }

    @Test(
        "Only a verified seller or an admin acts as a seller; the others are told why",
        arguments: [
            (Role.admin, SellerStatus.verified, true, nil),
            (.seller, .verified, true, nil),
            (.seller, .pending, false, "waiting for the operator's verification"),
            (.seller, .rejected, false, "rejected; contact the store operator"),
            (.seller, .suspended, false, "suspended; contact the store operator"),
            (.buyer, nil, false, "Only sellers"),
        ] as [(Role, SellerStatus?, Bool, String?)])
    func standing(role: Role, status: SellerStatus?, mayAct: Bool, reason: String?) throws {
        let account = user(role, status)
        let standing = SellerStanding(of: account)
        #expect(standing.mayAct == mayAct)
        #expect(account.canSell == mayAct)
        if let reason {
            #expect(standing.refusal?.contains(reason) == true, "\(standing.refusal ?? "no refusal")")
            let error = try #require(throws: SoukError.self) { try SellerStanding.require(account) }
            #expect(error.code == .forbidden)
            #expect(error.detail.contains(reason))
        } else {
            #expect(standing.refusal == nil)
            try SellerStanding.require(account)
        }
    }

    @Test("A seller with no recorded status counts as pending")
    func missingStatus() {
        #expect(SellerStanding(of: user(.seller, nil)) == .refused(.pending))
    }

    @Test(
        "A link session lasts at most a day; a password session as configured",
        arguments: [
            (SessionOrigin.password, 720.0 * 3600, 720.0 * 3600),
            (.link, 720 * 3600, 24 * 3600),
            (.link, 2 * 3600, 2 * 3600),
            (.password, 2 * 3600, 2 * 3600),
        ] as [(SessionOrigin, TimeInterval, TimeInterval)])
    func lifetimes(origin: SessionOrigin, configured: TimeInterval, expected: TimeInterval) {
        #expect(origin.lifetime(configured: configured) == expected)
    }

    @Test("An admin never gets a link session; everyone else may")
    func adminLinks() throws {
        let error = try #require(throws: SoukError.self) { try SessionOrigin.link.requireAllowed(for: user(.admin, .verified)) }
        #expect(error.code == .forbidden)
        #expect(error.detail.contains("password"))
        try SessionOrigin.password.requireAllowed(for: user(.admin, .verified))
        try SessionOrigin.link.requireAllowed(for: user(.buyer, nil))
        try SessionOrigin.link.requireAllowed(for: user(.seller, .verified))
    }
}
