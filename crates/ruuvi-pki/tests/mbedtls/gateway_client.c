/*
 * A TLS client built on mbedTLS the way the gateway's ESP-TLS uses it for the custom HTTP
 * target: server certificate verified against `http_srv_cert` (authmode REQUIRED), the host
 * name checked against the certificate, `http_cli_cert` + `http_cli_key` presented.
 *
 * usage: gateway_client HOST PORT SERVER_NAME CA.pem [CERT.pem KEY.pem]
 * Prints "HANDSHAKE OK <ciphersuite>", the HTTP status line and the body, or
 * "HANDSHAKE FAILED -0x<code> <text> verify=0x<flags>"; exits 0 / 1.
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

static int fail(const char *what, int ret, uint32_t flags)
{
    char text[200];
    mbedtls_strerror(ret, text, sizeof text);
    printf("%s FAILED -0x%04x %s verify=0x%x\n", what, (unsigned)-ret, text, (unsigned)flags);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT SERVER_NAME CA.pem [CERT.pem KEY.pem]\n"
                        "mbedTLS %s\n", argv[0], MBEDTLS_VERSION_STRING);
        return 2;
    }
    mbedtls_net_context net;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca, own;
    mbedtls_pk_context key;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_net_init(&net);
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&own);
    mbedtls_pk_init(&key);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);

    int ret = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0);
    if (ret != 0)
        return fail("SEED", ret, 0);
    if ((ret = mbedtls_x509_crt_parse_file(&ca, argv[4])) != 0)
        return fail("CA", ret, 0);
    if ((ret = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT,
                                           MBEDTLS_SSL_TRANSPORT_STREAM,
                                           MBEDTLS_SSL_PRESET_DEFAULT)) != 0)
        return fail("CONFIG", ret, 0);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, &ca, NULL);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    if (argc == 7) {
        if ((ret = mbedtls_x509_crt_parse_file(&own, argv[5])) != 0)
            return fail("CLIENT CERT", ret, 0);
#if MBEDTLS_VERSION_MAJOR >= 3
        ret = mbedtls_pk_parse_keyfile(&key, argv[6], NULL, mbedtls_ctr_drbg_random, &drbg);
#else
        ret = mbedtls_pk_parse_keyfile(&key, argv[6], NULL);
#endif
        if (ret != 0)
            return fail("CLIENT KEY", ret, 0);
        if ((ret = mbedtls_ssl_conf_own_cert(&conf, &own, &key)) != 0)
            return fail("OWN CERT", ret, 0);
    }
    if ((ret = mbedtls_ssl_setup(&ssl, &conf)) != 0)
        return fail("SETUP", ret, 0);
    /* The gateway checks the name (skip_cert_common_name_check = false). */
    if ((ret = mbedtls_ssl_set_hostname(&ssl, argv[3])) != 0)
        return fail("HOSTNAME", ret, 0);
    if ((ret = mbedtls_net_connect(&net, argv[1], argv[2], MBEDTLS_NET_PROTO_TCP)) != 0)
        return fail("CONNECT", ret, 0);
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
    while ((ret = mbedtls_ssl_handshake(&ssl)) != 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE)
            return fail("HANDSHAKE", ret, mbedtls_ssl_get_verify_result(&ssl));
    }
    printf("HANDSHAKE OK %s\n", mbedtls_ssl_get_ciphersuite(&ssl));

    char request[256];
    int n = snprintf(request, sizeof request,
                     "POST /record HTTP/1.1\r\nHost: %s\r\nContent-Length: 2\r\n"
                     "Connection: close\r\n\r\n{}", argv[3]);
    for (int off = 0; off < n;) {
        ret = mbedtls_ssl_write(&ssl, (const unsigned char *)request + off, n - off);
        if (ret > 0)
            off += ret;
        else if (ret != MBEDTLS_ERR_SSL_WANT_WRITE && ret != MBEDTLS_ERR_SSL_WANT_READ)
            return fail("WRITE", ret, 0);
    }
    unsigned char reply[512];
    int got = 0;
    for (;;) {
        ret = mbedtls_ssl_read(&ssl, reply + got, sizeof reply - 1 - got);
        if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (ret <= 0)
            break;
        got += ret;
        if (got >= (int)sizeof reply - 1)
            break;
    }
    if (got == 0)
        return fail("READ", ret, 0);
    reply[got] = 0;
    char *body = strstr((char *)reply, "\r\n\r\n");
    if (body) {
        *body = 0;
        body += 4;
    }
    char *eol = strstr((char *)reply, "\r\n");
    if (eol)
        *eol = 0;
    printf("%s\n%s\n", reply, body ? body : "");
    mbedtls_ssl_close_notify(&ssl);
    mbedtls_net_free(&net);
    return 0;
}
