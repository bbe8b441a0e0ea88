import Hummingbird
import SoukAuth
import SoukCore

/// `/api/v1/auth/*`, `/api/v1/me` and `/api/v1/tokens`.
struct AccountAPI: Sendable {
    let services: AppServices
    var flow: SignInFlow { SignInFlow(services: services) }

    func register(on router: Router<SoukRequestContext>) {
        let api = router.group("api/v1")
        api.post("auth/register", use: registerUser)
        api.post("auth/login", use: login)
        api.post("auth/logout", use: logout)
        api.get("me", use: me)
        api.post("tokens", use: createToken)
        api.get("tokens", use: listTokens)
        api.delete("tokens/:id", use: deleteToken)
    }

    struct RegisterBody: Decodable {
        var email: String
        var password: String
        var name: String
        var role: String?
    }

    @Sendable func registerUser(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let body = try await request.decodeJSON(RegisterBody.self, limit: services.maxBodyBytes)
        guard let role = Role(rawValue: body.role ?? "buyer") else {
            throw SoukError.validation("role", "Choose the role `buyer` or `seller`.")
        }
        let (user, token) = try await flow.signUp(
            email: body.email, password: body.password, name: body.name, role: role, request: request,
            context: context)
        var response = try JSONResponse(status: .created, body: UserBody(user), location: "/api/v1/me")
            .response(from: request, context: context)
        response.setCookie(services.cookies.session(token))
        return response
    }

    struct LoginBody: Decodable {
        var email: String
        var password: String
    }

    @Sendable func login(_ request: Request, context: SoukRequestContext) async throws -> Response {
        context.allowAnyone()
        let body = try await request.decodeJSON(LoginBody.self, limit: services.maxBodyBytes)
        let (user, token) = try await flow.signIn(
            email: body.email, password: body.password, request: request, context: context)
        var response = try JSONResponse(body: UserBody(user)).response(from: request, context: context)
        response.setCookie(services.cookies.session(token))
        return response
    }

    @Sendable func logout(_ request: Request, context: SoukRequestContext) async throws -> Response {
        try context.require(.signedIn)
        if case .session(let token, _) = context.identity?.credential {
            try await services.accounts.endSession(token)
        }
        var response = Response(status: .noContent)
        response.setCookie(services.cookies.expired())
        return response
    }

    @Sendable func me(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<UserBody> {
        JSONResponse(body: UserBody(try context.require(.signedIn)))
    }

    struct CreateTokenBody: Decodable {
        var name: String
        var scopes: [String]?
    }

    @Sendable func createToken(_ request: Request, context: SoukRequestContext) async throws -> JSONResponse<TokenBody> {
        let user = try context.require(.signedIn)
        let body = try await request.decodeJSON(CreateTokenBody.self, limit: services.maxBodyBytes)
        let scopes = try (body.scopes ?? []).map { name in
            guard let scope = TokenScope(rawValue: name) else {
                throw SoukError.validation("scopes", "Unknown scope `\(name)`: use `read` or `write`.")
            }
            return scope
        }
        let (record, token) = try await services.accounts.createToken(
            for: user, name: body.name, scopes: scopes, from: context.identity?.sessionOrigin)
        return JSONResponse(status: .created, body: TokenBody(record, token: token))
    }

    @Sendable func listTokens(_ request: Request, context: SoukRequestContext) async throws
        -> JSONResponse<ListBody<TokenBody>>
    {
        let user = try context.require(.signedIn)
        let tokens = try await services.database.tokens(userID: user.id)
        return JSONResponse(body: ListBody(data: tokens.map { TokenBody($0) }, nextCursor: nil))
    }

    @Sendable func deleteToken(_ request: Request, context: SoukRequestContext) async throws -> Response {
        let user = try context.require(.signedIn)
        let id = try context.parameters.require("id")
        guard try await services.database.deleteToken(id: id, userID: user.id) else {
            throw SoukError.notFound("The token \(id)")
        }
        return Response(status: .noContent)
    }
}
