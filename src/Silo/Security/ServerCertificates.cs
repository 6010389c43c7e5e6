using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TimeFusion.Silo.Security;

/// <summary>Loads an endpoint's TLS certificate (<see cref="TlsOptions"/>) from PEM or PKCS#12 files.</summary>
public static class ServerCertificates
{
    /// <summary>The certificate with its private key, or null when <paramref name="options"/> configures no TLS.</summary>
    /// <param name="options">The endpoint's TLS settings.</param>
    /// <param name="section">The settings' configuration section, named in errors.</param>
    /// <exception cref="InvalidOperationException">The files cannot be read or hold no private key; the message names the setting.</exception>
    public static X509Certificate2? Load(TlsOptions options, string section)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled) return null;
        var path = options.CertificatePath!;
        try
        {
            X509Certificate2 certificate;
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.Password);
            }
            else
            {
                using var pem = string.IsNullOrEmpty(options.Password)
                    ? X509Certificate2.CreateFromPemFile(path, string.IsNullOrWhiteSpace(options.KeyPath) ? null : options.KeyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, string.IsNullOrWhiteSpace(options.KeyPath) ? null : options.KeyPath);
                // A PEM key is ephemeral; exported and reloaded as PKCS#12 it works with SslStream on every platform.
                certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
            }
            if (!certificate.HasPrivateKey)
            {
                certificate.Dispose();
                throw new InvalidOperationException($"{section}:CertificatePath = '{path}': the certificate has no private key (set {section}:KeyPath)");
            }
            return certificate;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new InvalidOperationException($"{section}:CertificatePath = '{path}': cannot load the certificate: {e.Message}", e);
        }
    }
}
