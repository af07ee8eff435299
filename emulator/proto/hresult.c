/* The status tables of spec §8.1 (HRESULTs) and §8.2 (RPC fault statuses). */
#include "hresult.h"

#include <stddef.h>

#define UNKNOWN_HRESULT "unknown HRESULT"
#define UNKNOWN_RPC_STATUS "unknown RPC status"

static const struct status_info hresults[] = {
    /* Sent by a host in the RPC return value. */
    {HR_INVALID_DATA, "HRESULT_FROM_WIN32(ERROR_INVALID_DATA)",
     "the KMS host rejected the request as invalid: unsupported protocol version or undecodable "
     "request (vlmcsd also: N_Policy above 1000)",
     "check that the client speaks KMS protocol 4, 5 or 6 and that nothing between it and the host "
     "(a proxy, an inspecting firewall) alters the RPC traffic"},
    {HR_KMS_ID_MISMATCH, "SL_E_VL_KEY_MANAGEMENT_SERVICE_ID_MISMATCH",
     "the KMS host will not activate this product: its host key does not cover this KMS ID, or "
     "the ID is unknown, retail or preview",
     "install a KMS host key (CSVLK) that covers this product on the host, with the host OS and "
     "update it needs (kmsload coverage HOST names them), or point these clients at a host that "
     "has one"},
    {HR_INVALID_TIMESTAMP, "SL_E_VL_INVALID_TIMESTAMP",
     "the client's clock differs from the KMS host's clock by more than 4 hours",
     "set the client's and the host's clocks right from the domain's time source (w32tm /resync); "
     "with kmsload host --clock client, raise --clock-step or use a real-clock scenario"},
    {HR_OVERCHARGED, "SL_REMAPPING_SP_STATUS_INVALIDARG",
     "the KMS host's client list is overcharged (vlmcsd -M1: 671 client machine IDs reached)",
     "the emulator's client list is full: restart it or raise its limit (vlmcsd -M)"},
    {HR_HOST_NOT_ACTIVATED, "SL_E_VL_KEY_MANAGEMENT_SERVICE_NOT_ACTIVATED",
     "the KMS host itself is not activated",
     "activate the KMS host itself (slmgr /ato on the host, online or by phone)"},
    {HR_SERVICE_NOT_ENABLED, "SL_E_VL_BINDING_SERVICE_NOT_ENABLED",
     "the Key Management Service is not enabled on the host",
     "start the Software Protection service on the host and check that KMS is enabled there (slmgr "
     "/dlv)"},
    /* Client-side outcomes, never on the wire. */
    {HR_NOT_ENOUGH_COUNT, "SL_E_VL_NOT_ENOUGH_COUNT",
     "the KMS host answered, but its count is below this product's activation threshold "
     "(N_Policy); the client retries after the activation interval",
     "not an error: the host must count more distinct machines within 30 days (25 for Windows "
     "clients, 5 for servers and Office); the client retries every activation interval"},
    {HR_SERVICE_UNAVAILABLE, "SL_E_VL_BINDING_SERVICE_UNAVAILABLE",
     "no KMS host could be contacted (connection or RPC failure, or timeout)",
     "check the _vlmcs._tcp SRV record (nslookup -type=srv _vlmcs._tcp.DOMAIN), that TCP port 1688 "
     "is open through every firewall, and that the host's Software Protection service runs"},
    {HR_VM_NOT_SUPPORTED, "SL_E_VL_KEY_MANAGEMENT_SERVICE_VM_NOT_SUPPORTED",
     "KMS activation is not supported in this virtual machine",
     "this product cannot activate by KMS in a virtual machine: use another activation method for "
     "it"},
};

static const struct status_info rpc_faults[] = {
    {RPC_FAULT_UNKNOWN_IF, "nca_s_unk_if",
     "the host does not offer the KMS interface on this presentation context (unknown interface "
     "or context not bound)",
     "check that the address and port reach a KMS host (port 1688, the Software Protection "
     "service), not another RPC server"},
    {RPC_FAULT_PROTO_ERROR, "nca_s_proto_error", "the host found an RPC protocol error",
     "check that nothing between client and host alters the RPC traffic"},
    {RPC_FAULT_OP_RANGE, "nca_s_op_rng_error",
     "the host has no such RPC operation (operation number out of range)",
     "check that the address and port reach a KMS host, not another RPC server"},
    /* Generic MS-RPC statuses, not seen from KMS hosts but possible from other RPC servers. */
    {0x000006F7u, "RPC_X_BAD_STUB_DATA", "the host could not decode the request's stub data",
     "check that the address and port reach a KMS host, not another RPC server"},
    {0x000006D1u, "RPC_S_PROCNUM_OUT_OF_RANGE",
     "the procedure number is out of range for this interface",
     "check that the address and port reach a KMS host, not another RPC server"},
    {0x00000005u, "ERROR_ACCESS_DENIED", "access denied: the RPC server refused this client",
     "check the RPC server's access rules for this client's address"},
};

static const struct status_info *find_status(const struct status_info *table, size_t n,
                                             uint32_t code)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].code == code)
            return &table[i];
    }
    return NULL;
}

const struct status_info *hresult_lookup(uint32_t code)
{
    return find_status(hresults, sizeof hresults / sizeof hresults[0], code);
}

const struct status_info *rpc_fault_lookup(uint32_t status)
{
    return find_status(rpc_faults, sizeof rpc_faults / sizeof rpc_faults[0], status);
}

const char *hresult_name(uint32_t code)
{
    const struct status_info *info = hresult_lookup(code);
    return info ? info->name : UNKNOWN_HRESULT;
}

const char *hresult_meaning(uint32_t code)
{
    const struct status_info *info = hresult_lookup(code);
    return info ? info->meaning : UNKNOWN_HRESULT;
}

const char *rpc_fault_name(uint32_t status)
{
    const struct status_info *info = rpc_fault_lookup(status);
    return info ? info->name : UNKNOWN_RPC_STATUS;
}

const char *rpc_fault_meaning(uint32_t status)
{
    const struct status_info *info = rpc_fault_lookup(status);
    return info ? info->meaning : UNKNOWN_RPC_STATUS;
}

const char *status_name(uint32_t code)
{
    const struct status_info *info = hresult_lookup(code);
    if (!info)
        info = rpc_fault_lookup(code);
    return info ? info->name : "unknown status";
}

const char *status_advice(uint32_t code)
{
    const struct status_info *info = hresult_lookup(code);
    if (!info)
        info = rpc_fault_lookup(code);
    return info ? info->advice : NULL;
}
