console.log("xmc");
