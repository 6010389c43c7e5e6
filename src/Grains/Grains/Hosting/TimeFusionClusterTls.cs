using System.Security.Cryptography.X509Certificates;

namespace TimeFusion.Hosting;

/// <summary>Loads the cluster's TLS certificate (<c>TimeFusion:Cluster:TlsCertificatePath</c>/<c>TlsCertificatePassword</c>).</summary>
public static class TimeFusionClusterTls
{
    /// <summary>The certificate with its private key, from the PKCS#12 file.</summary>
    public static X509Certificate2 Load(TimeFusionClusterOptions options) =>
        X509CertificateLoader.LoadPkcs12FromFile(options.TlsCertificatePath!, options.TlsCertificatePassword,
            X509KeyStorageFlags.Exportable);
}
