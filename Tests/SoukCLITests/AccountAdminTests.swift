import Foundation
import SoukCore
import SoukDatabase
import Testing

@testable import SoukCLI

@Suite("Operator account actions (souk user / souk seller)")
struct AccountAdminTests {
    func makeAdmin() async throws -> (AccountAdmin, DataDirectory) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("souk-cli-\(UUID().uuidString)").path
        let data = DataDirectory(path)
        _ = try data.prepare()
        return (await AccountAdmin(database: try data.openDatabase(), bcryptCost: 4), data)
    }

    @Test("The data folder is created with a private secret key that stays the same")
    func dataDirectory() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("souk-dd-\(UUID().uuidString)").path
        let data = DataDirectory(path)
        let key = try data.prepare()
        #expect(key.count == 32)
        for folder in ["blobs", "outbox"] {
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: data.file(folder), isDirectory: &isDirectory) && isDirectory.boolValue)
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: data.secretKeyPath)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try data.prepare() == key)
    }

    @Test("A corrupt secret key is reported, not replaced")
    func corruptKey() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("souk-dd-\(UUID().uuidString)").path
        let data = DataDirectory(path)
        _ = try data.prepare()
        try "not hex".write(toFile: data.secretKeyPath, atomically: true, encoding: .utf8)
        #expect(throws: DataDirectory.SetupError.self) { try data.prepare() }
    }

    @Test("Create an admin, list it as a table and as JSON")
    func createAndList() async throws {
        let (admin, _) = try await makeAdmin()
        let created = try await admin.createUser(email: "Root@Example.com", name: "Root", role: .admin, password: "12345678")
        #expect(created.role == .admin)
        #expect(created.sellerStatus == .verified)
        let users = try await admin.users()
        let table = AccountAdmin.render(users, json: false)
        #expect(table.contains("root@example.com"))
        #expect(table.hasPrefix("ID"))
        let json = try JSONSerialization.jsonObject(with: Data(AccountAdmin.render(users, json: true).utf8)) as? [[String: Any]]
        #expect(json?.first?["email"] as? String == "root@example.com")
        #expect(json?.first?["role"] as? String == "admin")
    }

    @Test("Verify and reject sellers; a buyer has no seller status")
    func sellers() async throws {
        let (admin, _) = try await makeAdmin()
        _ = try await admin.createUser(email: "s@example.com", name: "S", role: .seller, password: "12345678")
        _ = try await admin.createUser(email: "b@example.com", name: "B", role: .buyer, password: "12345678")
        #expect(try await admin.users(role: .seller, sellerStatus: .pending).map(\.email) == ["s@example.com"])
        #expect(try await admin.setSellerStatus(email: "S@example.com", .verified).sellerStatus == .verified)
        #expect(try await admin.users(role: .seller, sellerStatus: .pending).isEmpty)
        await #expect(throws: SoukError.self) { _ = try await admin.setSellerStatus(email: "b@example.com", .verified) }
    }

    @Test("Reset a password: the old one stops working, the new one works")
    func resetPassword() async throws {
        let (admin, _) = try await makeAdmin()
        _ = try await admin.createUser(email: "p@example.com", name: "P", role: .buyer, password: "old password")
        _ = try await admin.resetPassword(email: "p@example.com", password: "new password")
        await #expect(throws: SoukError.self) {
            _ = try await admin.accounts.authenticate(email: "p@example.com", password: "old password")
        }
        #expect(try await admin.accounts.authenticate(email: "p@example.com", password: "new password").email == "p@example.com")
        await #expect(throws: SoukError.self) { _ = try await admin.resetPassword(email: "p@example.com", password: "short") }
    }
}
