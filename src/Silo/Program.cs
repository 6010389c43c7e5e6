// Placeholder host; replaced by the Orleans silo host.
return 0;
