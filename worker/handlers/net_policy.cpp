// IPv4/IPv6 address classification and the connect-time policy of http_request.
#include "net_policy.hpp"

#include <array>
#include <cstdint>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>

namespace rc::worker {
namespace {

bool in_v4(std::uint32_t a, std::uint32_t net, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == (net & mask);
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
    return (a << 24) | (b << 16) | (c << 8) | d;
}

AddressClass classify_v4(std::uint32_t a) { // host byte order
    if (in_v4(a, v4(0, 0, 0, 0), 8)) return AddressClass::Unspecified;
    if (in_v4(a, v4(127, 0, 0, 0), 8)) return AddressClass::Loopback;
    if (in_v4(a, v4(10, 0, 0, 0), 8) || in_v4(a, v4(172, 16, 0, 0), 12) ||
        in_v4(a, v4(192, 168, 0, 0), 16) || in_v4(a, v4(192, 0, 0, 0), 24) ||
        in_v4(a, v4(198, 18, 0, 0), 15))
        return AddressClass::Private;
    if (in_v4(a, v4(100, 64, 0, 0), 10)) return AddressClass::SharedCgnat;
    if (in_v4(a, v4(169, 254, 0, 0), 16)) return AddressClass::LinkLocal;
    if (in_v4(a, v4(224, 0, 0, 0), 4)) return AddressClass::Multicast;
    if (in_v4(a, v4(240, 0, 0, 0), 4)) return AddressClass::Reserved;
    return AddressClass::Public;
}

std::uint32_t v4_at(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}

AddressClass classify_v6(const std::uint8_t* b) {
    static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static constexpr std::array<std::uint8_t, 12> kZero{};
    static constexpr std::array<std::uint8_t, 12> kNat64{0, 0x64, 0xff, 0x9b, 0, 0,
                                                         0, 0,    0,    0,    0, 0};
    if (std::memcmp(b, kMapped.data(), 12) == 0 || std::memcmp(b, kNat64.data(), 12) == 0)
        return classify_v4(v4_at(b + 12));
    if (std::memcmp(b, kZero.data(), 12) == 0) {
        const std::uint32_t low = v4_at(b + 12);
        if (low == 0) return AddressClass::Unspecified; // ::
        if (low == 1) return AddressClass::Loopback;    // ::1
        return classify_v4(low);                        // deprecated IPv4-compatible ::a.b.c.d
    }
    if (b[0] == 0x20 && b[1] == 0x02) return classify_v4(v4_at(b + 2)); // 6to4
    if (b[0] == 0xff) return AddressClass::Multicast;
    if ((b[0] & 0xfe) == 0xfc) return AddressClass::Private;                   // fc00::/7
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::LinkLocal; // fe80::/10
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::Private;   // fec0::/10
    return AddressClass::Public;
}

} // namespace

AddressClass classify(const sockaddr* addr) {
    if (addr->sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, addr, sizeof in);
        return classify_v4(ntohl(in.sin_addr.s_addr));
    }
    if (addr->sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, addr, sizeof in6);
        return classify_v6(in6.sin6_addr.s6_addr);
    }
    return AddressClass::Reserved;
}

std::string_view to_string(AddressClass c) {
    switch (c) {
    case AddressClass::Public:
        return "public";
    case AddressClass::Loopback:
        return "loopback";
    case AddressClass::Private:
        return "private";
    case AddressClass::SharedCgnat:
        return "shared (CGNAT)";
    case AddressClass::LinkLocal:
        return "link-local";
    case AddressClass::Unspecified:
        return "unspecified";
    case AddressClass::Multicast:
        return "multicast";
    case AddressClass::Reserved:
        return "reserved";
    }
    return "unknown";
}

std::string address_text(const sockaddr* addr) {
    char buf[INET6_ADDRSTRLEN] = {0};
    if (addr->sa_family == AF_INET) {
        sockaddr_in in{};
        std::memcpy(&in, addr, sizeof in);
        ::inet_ntop(AF_INET, &in.sin_addr, buf, sizeof buf);
    } else if (addr->sa_family == AF_INET6) {
        sockaddr_in6 in6{};
        std::memcpy(&in6, addr, sizeof in6);
        ::inet_ntop(AF_INET6, &in6.sin6_addr, buf, sizeof buf);
    } else {
        return "address family " + std::to_string(addr->sa_family);
    }
    return buf;
}

std::optional<std::string> refusal(const sockaddr* addr, const AddressPolicy& policy) {
    const AddressClass c = classify(addr);
    const std::string what = "refused: " + address_text(addr) + " is a" +
                             (c == AddressClass::Unspecified ? "n " : " ") +
                             std::string(to_string(c)) + " address";
    switch (c) {
    case AddressClass::Public:
        return std::nullopt;
    case AddressClass::Loopback:
    case AddressClass::Private:
    case AddressClass::SharedCgnat:
        if (policy.allow_private) return std::nullopt;
        return what + " (start the worker with --allow-private-network to allow it)";
    case AddressClass::LinkLocal:
        if (policy.allow_link_local) return std::nullopt;
        return what + " (link-local addresses, where cloud metadata services live, stay refused"
                      " even with --allow-private-network; start the worker with --allow-link-local"
                      " to allow them)";
    case AddressClass::Unspecified:
    case AddressClass::Multicast:
    case AddressClass::Reserved:
        break;
    }
    return what + " (never allowed)";
}

std::optional<std::string> refusal(std::string_view ip, const AddressPolicy& policy) {
    const std::string text(ip);
    sockaddr_in in{};
    if (::inet_pton(AF_INET, text.c_str(), &in.sin_addr) == 1) {
        in.sin_family = AF_INET;
        return refusal(reinterpret_cast<const sockaddr*>(&in), policy);
    }
    sockaddr_in6 in6{};
    if (::inet_pton(AF_INET6, text.c_str(), &in6.sin6_addr) == 1) {
        in6.sin6_family = AF_INET6;
        return refusal(reinterpret_cast<const sockaddr*>(&in6), policy);
    }
    return "refused: '" + text + "' is not an IP address";
}

} // namespace rc::worker
