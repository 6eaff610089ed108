console.log("ui placeholder")
